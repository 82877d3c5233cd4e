{#- Each contract with its cancellation and its effective end (docs/metrics.md): the earliest of
    end_date and the cancellation's effective_date; none for an open-ended subscription that
    was never cancelled. A term contract renews on the day after its effective end. -#}
with

contracts as (
    select * from {{ ref('stg_billing__contracts') }}
),

cancellations as (
    select * from {{ ref('stg_billing__cancellations') }}
),

cancellations_ranked as (
    select
        *,
        row_number() over (
            partition by contract_id
            order by effective_date asc, cancelled_at asc, cancellation_id asc
        ) as cancellation_rank
    from cancellations
),

contracts_joined_to_cancellations as (
    select
        contracts.contract_id,
        contracts.account_id,
        contracts.plan_name,
        contracts.start_date,
        contracts.end_date,
        contracts.is_open_ended,
        contracts.arr,
        contracts.seats,
        contracts.signed_at,
        cancellations_ranked.cancellation_id,
        cancellations_ranked.cancelled_at,
        cancellations_ranked.effective_date as cancellation_effective_date,
        cancellations_ranked.reason_code as cancellation_reason_code,
        cancellations_ranked.reason_category as cancellation_reason_category,
        case
            when contracts.end_date is null then cancellations_ranked.effective_date
            when cancellations_ranked.effective_date is null then contracts.end_date
            when cancellations_ranked.effective_date < contracts.end_date
                then cancellations_ranked.effective_date
            else contracts.end_date
        end as effective_end_date
    from contracts
    left join cancellations_ranked
        on
            contracts.contract_id = cancellations_ranked.contract_id
            and cancellations_ranked.cancellation_rank = 1
),

final as (
    select
        *,
        not is_open_ended as is_term_contract,
        case
            when not is_open_ended
                then cast({{ dbt.dateadd('day', 1, 'effective_end_date') }} as date)
        end as renewal_date
    from contracts_joined_to_cancellations
)

select * from final
