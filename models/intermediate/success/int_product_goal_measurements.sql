{#- A weekly measurement of every product-measured goal (kpi_source = 'product'), derived from
    usage: one row per goal and complete week (Monday to Sunday) that starts on or after its
    baseline date, while the account has a contract in force, up to the as-of date (a closed or
    abandoned goal: up to the day it was first closed). Each value is a figure over the account's
    weeks in force among the var product_metric_weeks (4) ending with the measured one (one
    week's count swings with holidays and chance), counting the events received by the end of
    the measured week: the measurement is taken then and never revised, so what it says was
    known on that day (an event received later counts in later weeks' figures only). The
    catalogue's metrics (seeds/product_metrics.csv), each defined here once:

    - weekly_active_users: mean per week of the users with a session or a feature use;
    - active_seat_share: that mean / seats of the contracts in force at the measured week's end
      (no seats: no measurement);
    - weekly_feature_events:<feature_key>: mean per week of the feature_used events on it;
    - weekly_sessions_per_active_user: session_start events / weekly active users, both summed
      over the weeks (no active user: no measurement, never 0).

    A week without events counts 0 users and 0 events. measured_on is the week's last day, the
    day the measurement becomes known (recorded_at: that day's start). Events are read from
    their deliveries, counted by distinct event id; daily counts (stg_product__usage_daily)
    add their event_count and count as received at the end of their day. A window with a
    daily count not broken down by user has no user-based measurement (weekly active users,
    seat share, sessions per user): the users are not known.

    Incremental like the snapshot models (macros/incremental.sql): as a measurement is never
    revised once its week is over, a daily run recomputes the weeks ending in the window
    (`snapshot_lookback_days`, which also covers contracts and goal closings that change
    recent weeks) and every week of a goal loaded since the newest goal_loaded_at in the table
    and with no measurement there yet (a new goal). A goal that has no measurement because it
    cannot have one (no week in force, no user) is not read again every day: at 100 M events,
    17 such goals would have each daily run read the events back to their baselines. The
    weekly full refresh recomputes all (events loaded later than the window, goals edited). -#}
{{ config(tags=['as_of'], **snapshot_incremental_config('measured_on', grain='week')) }}
{%- set days_back = 7 * (var('product_metric_weeks') | int - 1) %}
{%- set window_start = snapshot_window_start('measured_on', grain='week') %}
{#- The weeks a run computes: all on a full build; on a daily run the weeks ending in the window
    (macros/incremental.sql) and every week of the new goals: absent from the table and loaded
    after its newest goal_loaded_at (the column is added on the first run that has it). #}
{%- set recomputed = '1 = 1' %}
{%- if window_start is not none %}
    {%- set new_goal = 'measured.goal_id not in (select kept.goal_id from ' ~ this ~ ' as kept)' %}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    {%- if 'goal_loaded_at' in columns %}
        {%- set watermark = run_query(
            'select max(goal_loaded_at) from ' ~ this
        ).columns[0].values()[0] %}
        {%- if watermark is not none %}
            {%- set new_goal = new_goal ~ " and measured.goal_loaded_at > cast('" ~ watermark
                ~ "' as " ~ dbt.type_timestamp() ~ ")" %}
        {%- endif %}
    {%- endif %}
    {%- set recomputed = '(' ~ in_window('measured.week_end', window_start)
        ~ ' or (' ~ new_goal ~ '))' %}
{%- endif %}
with

closings as (
    {#- The day each goal first stopped being active: a later edit of a closed goal does not
        move it. #}
    select
        goal_id,
        min(cast(updated_at as date)) as closed_on
    from {{ ref('stg_success__customer_goal_versions') }}
    where goal_status <> 'active'
    group by goal_id
),

goals as (
    select
        goals.*,
        closings.closed_on
    from {{ ref('stg_success__customer_goals') }} as goals
    left join closings
        on goals.goal_id = closings.goal_id
    where goals.kpi_source = 'product'
),

weeks as (
    select * from {{ ref('int_weeks') }}
    where is_complete_week
),

weeks_in_force as (
    select * from {{ ref('int_account_weeks_in_force') }}
    where is_in_force
),

deliveries as (
    select * from {{ ref('stg_product__usage_event_deliveries') }}
),

daily as (
    select * from {{ ref('stg_product__usage_daily') }}
),

{# Events and daily counts (no event id; event_count). -#}
usage as (
    {{ usage_deliveries(
        'deliveries',
        'daily',
        [
            'account_id', 'user_id', 'feature_key', 'is_session_start', 'is_feature_use',
            'received_at', 'event_date'
        ],
    ) }}
),

goal_weeks as (
    select
        goals.goal_id,
        goals.account_id,
        goals.product_metric_key,
        goals.product_feature_key,
        goals.baseline_date,
        goals.loaded_at as goal_loaded_at,
        weeks.week_start,
        weeks.week_end,
        weeks_in_force.seats
    from goals
    inner join weeks_in_force
        on goals.account_id = weeks_in_force.account_id
    inner join weeks
        on weeks_in_force.week_start = weeks.week_start
    where
        weeks.week_start
        >= cast({{ dbt.dateadd('day', -days_back, 'goals.baseline_date') }} as date)
        and (goals.closed_on is null or weeks.week_end <= goals.closed_on)
),

{# Each measured week with the weeks in force of its 4-week window. #}
windows as (
    select
        measured.goal_id,
        measured.account_id,
        measured.product_metric_key,
        measured.product_feature_key,
        measured.seats,
        measured.goal_loaded_at,
        measured.week_start,
        measured.week_end,
        counted.week_start as counted_week_start
    from goal_weeks as measured
    inner join goal_weeks as counted
        on
            measured.goal_id = counted.goal_id
            and measured.week_start >= counted.week_start
            and cast({{ dbt.dateadd('day', -days_back, 'measured.week_start') }} as date)
            <= counted.week_start
    where
        measured.week_start >= measured.baseline_date
        and {{ recomputed }}
),

events as (
    select
        usage.account_id,
        usage.event_id,
        usage.user_id,
        usage.feature_key,
        usage.is_session_start,
        usage.is_feature_use,
        usage.received_at,
        usage.event_count,
        cast({{ dbt.date_trunc('week', 'usage.event_date') }} as date) as week_start
    from usage
    where
        (usage.is_session_start or usage.is_feature_use)
        and usage.account_id in (select goals.account_id from goals)
        and usage.event_date >= (select min(windows.counted_week_start) from windows)
),

counted as (
    select
        windows.goal_id,
        windows.product_metric_key,
        windows.seats,
        windows.goal_loaded_at,
        windows.week_start,
        windows.week_end,
        cast(count(distinct windows.counted_week_start) as {{ type_double() }}) as weeks,
        count(
            distinct case
                when events.account_id is not null
                    then {{ dbt.concat([
                        'events.user_id', "'|'",
                        'cast(events.week_start as ' ~ dbt.type_string() ~ ')'
                    ]) }}
            end
        ) as user_weeks_count,
        sum(
            case when events.account_id is not null and events.user_id is null then 1 else 0 end
        ) as unattributed_rows,
        count(distinct case when events.is_session_start then events.event_id end)
        + coalesce(
            sum(
                case
                    when events.is_session_start and events.event_id is null
                        then events.event_count
                end
            ),
            0
        ) as sessions_count,
        count(
            distinct case
                when events.is_feature_use and events.feature_key = windows.product_feature_key
                    then events.event_id
            end
        )
        + coalesce(
            sum(
                case
                    when
                        events.is_feature_use
                        and events.feature_key = windows.product_feature_key
                        and events.event_id is null
                        then events.event_count
                end
            ),
            0
        ) as named_feature_events_count
    from windows
    left join events
        on
            windows.account_id = events.account_id
            and windows.counted_week_start = events.week_start
            and events.received_at < cast(
                {{ dbt.dateadd('day', 1, 'windows.week_end') }} as {{ dbt.type_timestamp() }}
            )
    group by
        windows.goal_id,
        windows.product_metric_key,
        windows.seats,
        windows.goal_loaded_at,
        windows.week_start,
        windows.week_end
),

totals as (
    select
        goal_id,
        product_metric_key,
        seats,
        goal_loaded_at,
        week_start,
        week_end,
        weeks,
        case
            when unattributed_rows = 0 then cast(user_weeks_count as {{ type_double() }})
        end as user_weeks,
        cast(sessions_count as {{ type_double() }}) as sessions,
        cast(named_feature_events_count as {{ type_double() }}) as named_feature_events
    from counted
),

measured as (
    select
        goal_id,
        product_metric_key,
        goal_loaded_at,
        week_end,
        week_start,
        case product_metric_key
            when 'weekly_active_users' then user_weeks / weeks
            when 'active_seat_share'
                then case when seats > 0 then user_weeks / weeks / seats end
            when 'weekly_feature_events' then named_feature_events / weeks
            when 'weekly_sessions_per_active_user'
                then case when user_weeks > 0 then sessions / user_weeks end
        end as measured_value
    from totals
),

final as (
    select
        {{ dbt.concat(['goal_id', "':'", 'cast(week_start as ' ~ dbt.type_string() ~ ')']) }}
            as measurement_id,
        goal_id,
        week_end as measured_on,
        cast({{ round_double('measured_value', 6) }} as {{ dbt.type_numeric() }})
            as measured_value,
        'product_derived' as measurement_source,
        cast(week_end as {{ dbt.type_timestamp() }}) as recorded_at,
        product_metric_key,
        goal_loaded_at
    from measured
    where measured_value is not null
)

select * from final
{{ clustered_by('measured_on') }}
