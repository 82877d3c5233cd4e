{#- Monthly ARR of each account (docs/metrics.md): the ARR of the contracts whose
    start_date .. coverage_end_date covers the month's last day (the as-of date for the
    current month). One row per account and month from its first contract's month on,
    zero-ARR months included so churn and reactivation are visible.

    Incremental like the snapshot models (macros/incremental.sql), by month: a run recomputes
    every account's months from the month `snapshot_lookback_days` before the as-of date,
    which covers a renewal that turns to churn when its grace period passes. -#}
{{ config(**snapshot_incremental_config('month_start', grain='month')) }}
{%- set window_start = snapshot_window_start('month_start', grain='month') %}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

months as (
    select * from {{ ref('int_months') }}
),

accounts_first_month as (
    select
        account_id,
        cast({{ dbt.date_trunc('month', 'min(start_date)') }} as date) as first_contract_month
    from contracts
    group by account_id
),

account_months as (
    select
        accounts_first_month.account_id,
        months.month_start,
        months.month_end,
        months.arr_measured_on,
        months.is_complete_month
    from accounts_first_month
    inner join months
        on accounts_first_month.first_contract_month <= months.month_start
    where {{ in_window('months.month_start', window_start) }}
),

arr_in_force as (
    select
        account_months.account_id,
        account_months.month_start,
        account_months.month_end,
        account_months.is_complete_month,
        coalesce(sum(contracts.arr), 0) as arr,
        coalesce(sum(contracts.seats), 0) as seats,
        count(contracts.contract_id) as contracts_in_force
    from account_months
    left join contracts
        on
            account_months.account_id = contracts.account_id
            and account_months.arr_measured_on >= contracts.start_date
            and (
                contracts.coverage_end_date is null
                or account_months.arr_measured_on <= contracts.coverage_end_date
            )
    group by
        account_months.account_id,
        account_months.month_start,
        account_months.month_end,
        account_months.is_complete_month
),

final as (
    select
        account_id,
        month_start,
        month_end,
        is_complete_month,
        cast(arr as {{ type_money() }}) as arr,
        cast(seats as {{ dbt.type_bigint() }}) as seats,
        cast(contracts_in_force as {{ dbt.type_bigint() }}) as contracts_in_force
    from arr_in_force
)

select * from final
{{ clustered_by('month_start') }}
