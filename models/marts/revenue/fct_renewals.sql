{{ config(tags=['as_of']) }}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

renewals as (
    select
        contracts.contract_id,
        contracts.account_id,
        accounts.segment,
        contracts.plan_name,
        contracts.start_date as contract_start_date,
        contracts.end_date as contract_end_date,
        contracts.effective_end_date,
        contracts.renewal_date,
        contracts.grace_deadline,
        contracts.renewal_outcome,
        contracts.renewal_outcome <> 'pending' as is_closed,
        contracts.renewal_outcome in ('renewed', 'expanded', 'contracted') as is_renewed,
        contracts.arr as expiring_arr,
        contracts.renewal_contract_id,
        contracts.renewal_start_date,
        coalesce(contracts.renewed_arr, 0) as renewed_arr,
        contracts.cancellation_id,
        contracts.cancelled_at,
        contracts.cancellation_reason_code,
        case
            when contracts.renewal_outcome = 'churned'
                then coalesce(contracts.cancellation_reason_category, 'controllable')
        end as churn_reason_category,
        {{ dbt.datediff('as_of.as_of_date', 'contracts.renewal_date', 'day') }}
            as days_to_renewal
    from contracts
    inner join accounts
        on contracts.account_id = accounts.account_id
    cross join as_of
    where contracts.is_term_contract
),

final as (
    select
        contract_id,
        account_id,
        segment,
        plan_name,
        contract_start_date,
        contract_end_date,
        effective_end_date,
        renewal_date,
        grace_deadline,
        renewal_outcome,
        is_closed,
        is_renewed,
        cast(expiring_arr as decimal(18, 2)) as expiring_arr,
        renewal_contract_id,
        renewal_start_date,
        cast(renewed_arr as decimal(18, 2)) as renewed_arr,
        cast(renewed_arr - expiring_arr as decimal(18, 2)) as arr_change,
        cancellation_id,
        cancelled_at,
        cancellation_reason_code,
        churn_reason_category,
        cast(days_to_renewal as integer) as days_to_renewal
    from renewals
)

select * from final
