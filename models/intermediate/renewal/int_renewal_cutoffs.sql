{#- One row per term-contract renewal with the date its prediction features are computed as of:
    renewal_cutoff_days before the renewal date, or as_of_date when that is still in the future
    (a pending renewal is scored on what is known today). Closed renewals carry their label and
    the day it became known (decided_on). -#}
{{ config(tags=['as_of']) }}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

renewals as (
    select
        contract_id,
        account_id,
        start_date as contract_start_date,
        renewal_date,
        renewal_outcome,
        renewal_decided_on,
        arr as expiring_arr,
        seats,
        cancellation_reason_category,
        cast({{ dbt.dateadd('day', -var('renewal_cutoff_days'), 'renewal_date') }} as date)
            as planned_cutoff_date
    from contracts
    where is_term_contract
),

final as (
    select
        contract_id,
        account_id,
        contract_start_date,
        renewal_date,
        renewal_outcome,
        renewal_outcome <> 'pending' as is_closed,
        case
            when renewal_outcome in ('renewed', 'expanded', 'contracted') then 1
            when renewal_outcome = 'churned' then 0
        end as renewed_label,
        renewal_decided_on as decided_on,
        expiring_arr,
        seats,
        case
            when planned_cutoff_date > {{ as_of_date() }} then {{ as_of_date() }}
            else planned_cutoff_date
        end as cutoff_date
    from renewals
)

select * from final
