{#- Account-weeks in which the account had a contract in force at the week's end (grace
    bridged), with its seats and ARR then: the weeks a health score is computed for. The spine
    runs from the account's first such week with every week in between, so trailing windows can
    count rows; week_number counts from that first week.

    Incremental like the snapshot models (macros/incremental_snapshots.sql): a row depends
    only on its account's contracts as evaluated today (fingerprinted) and on which weeks are
    complete, so a run recomputes the newly complete weeks for every account and every week of
    accounts whose contracts changed. An unchanged account's first week is the first week it
    already has (the pre-hook has deleted only rows in scope), or, for an account with none
    yet, its first week in force among the recomputed ones. -#}
{{ config(**snapshot_incremental_config('week_start', grain='week')) }}
{%- set scope = snapshot_scope('week') %}
-- depends_on: {{ ref('int_account_input_changes') }}
with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

weeks as (
    select * from {{ ref('int_weeks') }}
    where is_complete_week
),

in_force as (
    {%- for part in snapshot_scope_parts(scope, 'weeks.week_start', 'contracts.account_id') %}
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
        where {{ part }}
        group by contracts.account_id, weeks.week_start
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

first_weeks as (
    select
        account_id,
        min(week_start) as first_week
    from in_force
    group by account_id
    {%- if scope is not none %}
    union all
    select
        account_id,
        min(week_start) as first_week
    from {{ this }}
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
    {%- for part in snapshot_scope_parts(scope, 'weeks.week_start', 'first_week.account_id') %}
        select
            first_week.account_id,
            weeks.week_start,
            weeks.week_end,
            {{ dbt.datediff('first_week.first_week', 'weeks.week_start', 'day') }}
                as days_since_first_week
        from first_week
        inner join weeks
            on first_week.first_week <= weeks.week_start
        where {{ part }}
        {{ 'union all' if not loop.last }}
    {%- endfor %}
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
