{#- Goal progress as known on each snapshot date (docs/metrics.md): the latest measurement with
    measured_on and recorded_at up to the snapshot; progress_ratio =
    (latest - baseline) / (target - baseline), which handles decrease goals (target < baseline).
    Status: >= 1 achieved, (0, 1) partial, 0 not_started, < 0 regressed, no measurement unknown
    (never scored 0). Expected progress is the elapsed share of baseline_date .. target_date,
    clamped to 0..1; on track = progress >= expected - goal_on_track_tolerance.
    pace_pct = 100 * progress / expected progress, capped at 100 (expected progress below
    goal_pace_min_expected counts as that much, so a goal a week old is not judged on a week):
    how far along the goal is against where it should be by now. Past the target date it
    equals attainment_pct.
    Incremental (macros/incremental.sql): a run recomputes the snapshot dates from
    `snapshot_lookback_days` before the as-of date. -#}
{{ config(**snapshot_incremental_config('snapshot_date')) }}
{%- set window_start = snapshot_window_start('snapshot_date') %}
{%- set baseline_date = 'goal_snapshots.baseline_date' %}

with

goals as (
    {#- Each goal as it stood on a date: the version in force then (a later edit of its target,
        weight or status does not reach back). -#}
    select * from {{ ref('stg_success__customer_goal_versions') }}
),

measurements as (
    select * from {{ ref('int_goal_measurements') }}
),

snapshots as (
    select * from {{ ref('int_snapshot_dates') }}
),

goal_snapshots as (
    {#- The dates every account shares (account_id null) and each account's own dates as two
        joins: one join on "account_id is null or = ..." has no key to hash on. #}
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
            goals.valid_from <= snapshots.snapshot_date
            and (goals.valid_until is null or goals.valid_until > snapshots.snapshot_date)
    where
        snapshots.account_id is null
        and {{ in_window('snapshots.snapshot_date', window_start) }}
    union all
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
            goals.account_id = snapshots.account_id
            and goals.valid_from <= snapshots.snapshot_date
            and (goals.valid_until is null or goals.valid_until > snapshots.snapshot_date)
    where {{ in_window('snapshots.snapshot_date', window_start) }}
),

measurements_ordered as (
    {#- The latest measurement known on a date is the newest by measured_on (then recorded_at,
        measurement_id) among those measured and recorded by then. A measurement becomes known on
        the later of the two dates. Per goal: order the measurements once, take the running newest
        and running count over the dates they became known, and keep each as an interval
        [known_from, known_until) that a snapshot date falls in. This replaces ranking the
        measurements of every goal x snapshot pair (goals x dates x measurements rows in a
        window, which cannot spill well) by a join on goal_id and the date interval. #}
    select
        goal_id,
        measured_on,
        measured_value,
        case
            when cast(recorded_at as date) > measured_on then cast(recorded_at as date)
            else measured_on
        end as known_from,
        row_number() over (
            partition by goal_id
            order by measured_on, recorded_at, measurement_id
        ) as measurement_order
    from measurements
    where measured_on is not null and recorded_at is not null
),

known_by_date as (
    select
        goal_id,
        known_from,
        max(measurement_order) as newest_order,
        count(*) as measurements_added
    from measurements_ordered
    group by goal_id, known_from
),

known_intervals as (
    select
        goal_id,
        known_from,
        coalesce(
            lead(known_from) over (partition by goal_id order by known_from),
            {{ open_end_date() }}
        ) as known_until,
        max(newest_order) over (
            partition by goal_id
            order by known_from
            rows between unbounded preceding and current row
        ) as latest_order,
        cast(sum(measurements_added) over (
            partition by goal_id
            order by known_from
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as measurements_known
    from known_by_date
),

latest_known as (
    select
        known_intervals.goal_id,
        known_intervals.known_from,
        known_intervals.known_until,
        known_intervals.measurements_known,
        measurements_ordered.measured_on,
        measurements_ordered.measured_value
    from known_intervals
    inner join measurements_ordered
        on
            known_intervals.goal_id = measurements_ordered.goal_id
            and known_intervals.latest_order = measurements_ordered.measurement_order
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
    left join latest_known as latest
        on
            goal_snapshots.goal_id = latest.goal_id
            and goal_snapshots.snapshot_date >= latest.known_from
            and goal_snapshots.snapshot_date < latest.known_until
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
