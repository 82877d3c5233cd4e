{#- Account-weeks in which the account had a contract in force at the week's end (grace
    bridged), with its seats and ARR then: the weeks a health score is computed for. The spine
    runs from the account's first such week with every week in between, so trailing windows can
    count rows; week_number counts from that first week.

    Incremental (macros/incremental.sql): a run recomputes the weeks of the window. An
    account's first week is the earlier of the first week it already has before the window
    (the pre-hook has deleted the window's rows) and its first week in force in the window. -#}
{{ config(**snapshot_incremental_config('week_start', grain='week')) }}
{%- set window_start = snapshot_window_start('week_start', grain='week') %}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

weeks as (
    select * from {{ ref('int_weeks') }}
    where is_complete_week
),

in_force as (
    select
        contracts.account_id,
        weeks.week_start,
        sum(contracts.seats) as seats,
        cast(sum(contracts.arr) as {{ type_money() }}) as arr
    from weeks
    inner join contracts
        on
            weeks.week_end >= contracts.start_date
            and (
                contracts.coverage_end_date is null
                or weeks.week_end <= contracts.coverage_end_date
            )
    where {{ in_window('weeks.week_start', window_start) }}
    group by contracts.account_id, weeks.week_start
),

first_weeks as (
    select
        account_id,
        min(week_start) as first_week
    from in_force
    group by account_id
    {%- if window_start is not none %}
    union all
    select
        account_id,
        min(week_start) as first_week
    from {{ this }}
    where not ({{ in_window('week_start', window_start) }})
    group by account_id
    {%- endif %}
),

first_week as (
    select
        account_id,
        min(first_week) as first_week
    from first_weeks
    group by account_id
),

spine as (
    select
        first_week.account_id,
        weeks.week_start,
        weeks.week_end,
        {{ dbt.datediff('first_week.first_week', 'weeks.week_start', 'day') }}
            as days_since_first_week
    from first_week
    inner join weeks
        on first_week.first_week <= weeks.week_start
    where {{ in_window('weeks.week_start', window_start) }}
),

final as (
    select
        spine.account_id,
        spine.week_start,
        spine.week_end,
        in_force.account_id is not null as is_in_force,
        coalesce(in_force.seats, 0) as seats,
        coalesce(in_force.arr, 0) as arr,
        cast(spine.days_since_first_week / 7 as {{ dbt.type_bigint() }}) + 1 as week_number
    from spine
    left join in_force
        on
            spine.account_id = in_force.account_id
            and spine.week_start = in_force.week_start
)

select * from final
{{ clustered_by('week_start') }}
