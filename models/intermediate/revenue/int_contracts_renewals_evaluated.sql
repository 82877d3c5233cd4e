{#- Renewal outcome and ARR coverage of every contract (docs/metrics.md).

    A term contract is renewed when another contract of the same account starts between its
    start date + 1 day and its renewal date + the grace period; the earliest such contract is
    its renewal (expanded / contracted when its ARR is above / below). Without one it is churned
    once the grace period has passed as of as_of_date, else pending.

    renewal_decided_on is the day the outcome became known: the day the renewal contract was
    signed, or for a churn the day after the grace deadline (the renewal model trains on the
    renewals decided by its training date).

    coverage_end_date is the last day the contract's ARR counts: a gap before a renewal inside
    the grace period, and a pending contract's grace period, are bridged by the expiring ARR, so
    an on-time renewal is never churn + reactivation. -#}
{{ config(tags=['as_of']) }}
with

contracts as (
    select * from {{ ref('int_contracts_enriched') }}
),

renewal_candidates as (
    select
        expiring.contract_id,
        candidate.contract_id as renewal_contract_id,
        candidate.start_date as renewal_start_date,
        candidate.arr as renewed_arr,
        candidate.signed_at as renewal_signed_at,
        row_number() over (
            partition by expiring.contract_id
            order by candidate.start_date asc, candidate.arr desc, candidate.contract_id asc
        ) as candidate_rank
    from contracts as expiring
    inner join contracts as candidate
        on
            expiring.account_id = candidate.account_id
            and expiring.contract_id <> candidate.contract_id
            and candidate.start_date
            >= cast({{ dbt.dateadd('day', 1, 'expiring.start_date') }} as date)
            and candidate.start_date <= cast(
                {{ dbt.dateadd('day', var('grace_period_days'), 'expiring.renewal_date') }} as date
            )
    where expiring.is_term_contract
),

contracts_joined_to_renewals as (
    select
        contracts.contract_id,
        contracts.account_id,
        contracts.plan_name,
        contracts.start_date,
        contracts.end_date,
        contracts.is_open_ended,
        contracts.is_term_contract,
        contracts.arr,
        contracts.seats,
        contracts.signed_at,
        contracts.cancellation_id,
        contracts.cancelled_at,
        contracts.cancellation_effective_date,
        contracts.cancellation_reason_code,
        contracts.cancellation_reason_category,
        contracts.effective_end_date,
        contracts.renewal_date,
        renewal_candidates.renewal_contract_id,
        renewal_candidates.renewal_start_date,
        renewal_candidates.renewed_arr,
        renewal_candidates.renewal_signed_at,
        cast(
            {{ dbt.dateadd('day', var('grace_period_days'), 'contracts.renewal_date') }} as date
        ) as grace_deadline
    from contracts
    left join renewal_candidates
        on
            contracts.contract_id = renewal_candidates.contract_id
            and renewal_candidates.candidate_rank = 1
),

outcomes_classified as (
    select
        *,
        case
            when not is_term_contract then null
            when renewal_contract_id is not null and renewed_arr > arr then 'expanded'
            when renewal_contract_id is not null and renewed_arr < arr then 'contracted'
            when renewal_contract_id is not null then 'renewed'
            when grace_deadline < {{ as_of_date() }} then 'churned'
            else 'pending'
        end as renewal_outcome
    from contracts_joined_to_renewals
),

final as (
    select
        *,
        case
            when renewal_outcome = 'pending' then grace_deadline
            when
                renewal_outcome in ('renewed', 'expanded', 'contracted')
                and renewal_start_date > renewal_date
                then cast({{ dbt.dateadd('day', -1, 'renewal_start_date') }} as date)
            else effective_end_date
        end as coverage_end_date,
        case
            when renewal_outcome in ('renewed', 'expanded', 'contracted')
                then cast(renewal_signed_at as date)
            when renewal_outcome = 'churned'
                then cast({{ dbt.dateadd('day', 1, 'grace_deadline') }} as date)
        end as renewal_decided_on
    from outcomes_classified
)

select * from final
