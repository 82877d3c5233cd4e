{#- Weekly activity per account: weekly active users (distinct), user-days, sessions and
    feature events (session_start and feature_used only), from the events and the daily
    counts (macros/usage_activity.sql); the user-based columns are null in a week with a
    count not broken down by user. Incremental by week (see macros/incremental.sql): a run
    recomputes the weeks from `usage_lookback_days` before the newest week it holds. -#}
{{ config(**incremental_events_config('week_start')) }}
{%- set window_start = event_window_start('week_start', grain='week') %}

with

events as (
    select * from {{ ref('stg_product__usage_event_deliveries') }}
),

daily as (
    select * from {{ ref('stg_product__usage_daily') }}
),

activity as (
    {{ usage_activity(
        'events',
        'daily',
        ['account_id', 'user_id', 'event_date', 'is_session_start', 'is_feature_use'],
        '(is_session_start or is_feature_use) and ' ~ in_window('event_date', window_start),
    ) }}
),

counted_events as (
    select
        account_id,
        user_id,
        event_date,
        is_session_start,
        is_feature_use,
        event_count,
        loaded_at,
        cast({{ dbt.date_trunc('week', 'event_date') }} as date) as week_start
    from activity
),

user_days as (
    select distinct
        account_id,
        week_start,
        user_id,
        event_date
    from counted_events
),

user_days_aggregated as (
    select
        account_id,
        week_start,
        {{ users_counted('count(*)') }} as user_active_days
    from user_days
    group by account_id, week_start
),

events_aggregated as (
    select
        account_id,
        week_start,
        {{ users_counted('count(distinct user_id)') }} as weekly_active_users,
        sum(case when is_session_start then event_count else 0 end) as sessions,
        sum(case when is_feature_use then event_count else 0 end) as feature_events,
        max(loaded_at) as last_loaded_at
    from counted_events
    group by account_id, week_start
),

final as (
    select
        events_aggregated.account_id,
        events_aggregated.week_start,
        events_aggregated.weekly_active_users,
        user_days_aggregated.user_active_days,
        events_aggregated.sessions,
        events_aggregated.feature_events,
        events_aggregated.last_loaded_at
    from events_aggregated
    inner join user_days_aggregated
        on
            events_aggregated.account_id = user_days_aggregated.account_id
            and events_aggregated.week_start = user_days_aggregated.week_start
)

select * from final
{{ clustered_by('week_start') }}
