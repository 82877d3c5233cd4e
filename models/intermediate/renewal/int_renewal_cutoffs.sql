{#- One row per term-contract renewal and lead time (lead_days) with the date its features are
    computed as of. The model's own cut-off (lead_days = renewal_cutoff_days, is_model_cutoff)
    is renewal_cutoff_days before the renewal date, or as_of_date when that is still in the
    future (a pending renewal is scored on what is known today). The lead times of
    renewal_lead_days (is_lead_time_cutoff) give the cut-offs fct_renewal_signal_lead_time
    evaluates the signals at; such a row exists once its cut-off date has passed, and never
    moves. Closed renewals carry their label and the day it became known (decided_on). -#}
{{ config(tags=['as_of']) }}
{%- set model_lead = var('renewal_cutoff_days') | int %}
{%- set lead_days = var('renewal_lead_days') %}
{%- if lead_days is string or lead_days | length == 0
    or lead_days | reject('integer') | list | length > 0
    or lead_days | select('le', 0) | list | length > 0 %}
    {{ exceptions.raise_compiler_error(
        "var renewal_lead_days must be a list of positive whole days, not " ~ lead_days
    ) }}
{%- endif %}
{%- set leads = (lead_days + [model_lead]) | unique | sort %}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

leads as (
    {%- for lead in leads %}
        select cast({{ lead }} as integer) as lead_days
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

renewals as (
    select
        contracts.contract_id,
        contracts.account_id,
        contracts.start_date as contract_start_date,
        contracts.renewal_date,
        contracts.renewal_outcome,
        contracts.renewal_decided_on,
        contracts.arr as expiring_arr,
        contracts.seats,
        leads.lead_days,
        cast({{ dbt.dateadd('day', '-leads.lead_days', 'contracts.renewal_date') }} as date)
            as planned_cutoff_date
    from contracts
    cross join leads
    where contracts.is_term_contract
),

final as (
    select
        contract_id,
        account_id,
        lead_days,
        lead_days = {{ model_lead }} as is_model_cutoff,
        lead_days in ({{ lead_days | join(', ') }}) as is_lead_time_cutoff,
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
    where lead_days = {{ model_lead }} or planned_cutoff_date <= {{ as_of_date() }}
)

select * from final
