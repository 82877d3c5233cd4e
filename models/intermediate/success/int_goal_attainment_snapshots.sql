{#- Goal progress as known on each snapshot date (DOMAIN.md §2): the latest measurement with
    measured_on and recorded_at up to the snapshot; progress_ratio =
    (latest - baseline) / (target - baseline), which handles decrease goals (target < baseline).
    Status: >= 1 achieved, (0, 1) partial, 0 not_started, < 0 regressed, no measurement unknown
    (never scored 0). Expected progress is the elapsed share of baseline_date .. target_date,
    clamped to 0..1; on track = progress >= expected - goal_on_track_tolerance.
    pace_pct = 100 * progress / expected progress, capped at 100 (expected progress below
    goal_pace_min_expected counts as that much, so a goal a week old is not judged on a week):
    how far along the goal is against where it should be by now. Past the target date it
    equals attainment_pct.
    Incremental: a run recomputes the new snapshot dates and the goals of accounts whose
    inputs changed (macros/incremental_snapshots.sql). -#}
{{ config(**snapshot_incremental_config('snapshot_date')) }}
{%- set scope = snapshot_scope() %}
{%- set baseline_date = 'goal_snapshots.baseline_date' %}
-- depends_on: {{ ref('int_account_input_changes') }}

with

goals as (
    select * from {{ ref('stg_success__customer_goals') }}
),

measurements as (
    select * from {{ ref('stg_success__goal_measurements') }}
),

snapshots as (
    select * from {{ ref('int_snapshot_dates') }}
),

goal_snapshots as (
    {%- for part in snapshot_scope_parts(scope, 'snapshots.snapshot_date', 'goals.account_id') %}
        select
            goals.goal_id,
            goals.account_id,
            goals.baseline_value,
            goals.target_value,
            goals.baseline_date,
            goals.target_date,
            goals.goal_weight,
            goals.goal_status,
            snapshots.snapshot_date,
            snapshots.is_current
        from goals
        inner join snapshots
            on
                cast(goals.created_at as date) <= snapshots.snapshot_date
                and (snapshots.account_id is null or goals.account_id = snapshots.account_id)
        where {{ part }}
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

measurements_ranked as (
    select
        goal_snapshots.goal_id,
        goal_snapshots.snapshot_date,
        measurements.measured_on,
        measurements.measured_value,
        row_number() over (
            partition by goal_snapshots.goal_id, goal_snapshots.snapshot_date
            order by
                measurements.measured_on desc,
                measurements.recorded_at desc,
                measurements.measurement_id desc
        ) as measurement_rank,
        count(*) over (
            partition by goal_snapshots.goal_id, goal_snapshots.snapshot_date
        ) as measurements_known
    from goal_snapshots
    inner join measurements
        on
            goal_snapshots.goal_id = measurements.goal_id
            and goal_snapshots.snapshot_date >= measurements.measured_on
            and cast(measurements.recorded_at as date) <= goal_snapshots.snapshot_date
),

progress as (
    select
        goal_snapshots.*,
        latest.measured_on as latest_measured_on,
        latest.measured_value as latest_value,
        coalesce(latest.measurements_known, 0) as measurements_known,
        cast(latest.measured_value - goal_snapshots.baseline_value as {{ type_double() }})
        / cast(goal_snapshots.target_value - goal_snapshots.baseline_value as {{ type_double() }})
            as progress_ratio,
        cast(
            {{ dbt.datediff(baseline_date, 'goal_snapshots.snapshot_date', 'day') }}
            as {{ type_double() }}
        )
        / {{ dbt.datediff(baseline_date, 'goal_snapshots.target_date', 'day') }}
            as elapsed_share
    from goal_snapshots
    left join measurements_ranked as latest
        on
            goal_snapshots.goal_id = latest.goal_id
            and goal_snapshots.snapshot_date = latest.snapshot_date
            and latest.measurement_rank = 1
),

final as (
    select
        goal_id,
        account_id,
        snapshot_date,
        is_current,
        goal_weight,
        goal_status,
        latest_measured_on,
        latest_value,
        measurements_known,
        progress_ratio,
        case
            when progress_ratio is null then null
            when progress_ratio >= 1 then 100.0
            when progress_ratio <= 0 then 0.0
            else 100.0 * progress_ratio
        end as attainment_pct,
        case
            when progress_ratio is null then 'unknown'
            when progress_ratio >= 1 then 'achieved'
            when progress_ratio > 0 then 'partial'
            when progress_ratio = 0 then 'not_started'
            else 'regressed'
        end as attainment_status,
        case
            when elapsed_share < 0 then 0.0
            when elapsed_share > 1 then 1.0
            else elapsed_share
        end as expected_progress_ratio
    from progress
)

select
    *,
    case
        when progress_ratio is null then null
        else progress_ratio >= expected_progress_ratio - {{ var('goal_on_track_tolerance') }}
    end as is_on_track,
    case
        when progress_ratio is null then null
        when progress_ratio <= 0 then 0.0
        when progress_ratio >= expected_progress_ratio then 100.0
        when expected_progress_ratio < {{ var('goal_pace_min_expected') }}
            then 100.0 * least(1.0, progress_ratio / {{ var('goal_pace_min_expected') }})
        else 100.0 * progress_ratio / expected_progress_ratio
    end as pace_pct
from final
{{ clustered_by('snapshot_date') }}
