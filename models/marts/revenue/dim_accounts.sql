{#- One row per account: current attributes, the contract in force, ARR and seats, the next
    renewal and the lifecycle stage, all as of as_of_date. -#}
{{ config(tags=['as_of']) }}
with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

contracts_started as (
    select
        account_id,
        min(start_date) as first_contract_start_date,
        count(*) as contracts_to_date
    from contracts
    where start_date <= {{ as_of_date() }}
    group by account_id
),

contracts_in_force as (
    select
        *,
        row_number() over (
            partition by account_id
            order by start_date desc, contract_id desc
        ) as recency_rank
    from contracts
    where
        start_date <= {{ as_of_date() }}
        and (coverage_end_date is null or coverage_end_date >= {{ as_of_date() }})
),

current_arr as (
    select
        account_id,
        sum(arr) as current_arr,
        sum(seats) as current_seats,
        min(case when renewal_outcome = 'pending' then renewal_date end) as next_renewal_date
    from contracts_in_force
    group by account_id
),

accounts_joined as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.industry,
        accounts.region,
        accounts.csm_owner_hash,
        accounts.created_at,
        contracts_started.first_contract_start_date,
        coalesce(contracts_started.contracts_to_date, 0) as contracts_to_date,
        current_contract.contract_id as current_contract_id,
        current_contract.plan_name as current_plan_name,
        current_contract.is_open_ended as is_open_ended_subscription,
        coalesce(current_arr.current_arr, 0) as current_arr,
        coalesce(current_arr.current_seats, 0) as current_seats,
        current_arr.next_renewal_date,
        {{ dbt.datediff(as_of_date(), 'current_arr.next_renewal_date', 'day') }}
            as days_to_renewal,
        {{ dbt.datediff('contracts_started.first_contract_start_date', as_of_date(), 'day') }}
            as days_since_first_contract
    from accounts
    left join contracts_started
        on accounts.account_id = contracts_started.account_id
    left join current_arr
        on accounts.account_id = current_arr.account_id
    left join contracts_in_force as current_contract
        on
            accounts.account_id = current_contract.account_id
            and current_contract.recency_rank = 1
),

final as (
    select
        account_id,
        account_name,
        segment,
        industry,
        region,
        csm_owner_hash,
        created_at,
        first_contract_start_date,
        cast(contracts_to_date as {{ dbt.type_bigint() }}) as contracts_to_date,
        current_contract_id,
        current_plan_name,
        is_open_ended_subscription,
        cast(current_arr as decimal(18, 2)) as current_arr,
        cast(current_seats as {{ dbt.type_bigint() }}) as current_seats,
        next_renewal_date,
        cast(days_to_renewal as integer) as days_to_renewal,
        case
            when first_contract_start_date is null then 'prospect'
            when current_arr = 0 then 'churned'
            when days_since_first_contract < {{ var('onboarding_days') }} then 'onboarding'
            when days_to_renewal <= {{ var('renewal_window_days') }} then 'renewal_window'
            else 'active'
        end as lifecycle_stage,
        {{ as_of_date() }} as as_of_date
    from accounts_joined
)

select * from final
