{#- Account x feature x week adoption, read by the health components, the first use of each
    feature, the feature-use alerts and the mart fct_feature_adoption_weekly (a view of it).
    Incremental by week (see macros/incremental.sql): a run recomputes the weeks from
    `usage_lookback_days` before the newest week it holds. It reads the events and the daily
    counts (macros/usage_activity.sql); active_users is null in a week with a count not broken
    down by user. -#}
{{ config(**incremental_events_config('week_start')) }}
{%- set window_start = event_window_start('week_start', grain='week') %}

with

events as (
    select * from {{ ref('stg_product__usage_event_deliveries') }}
),

daily as (
    select * from {{ ref('stg_product__usage_daily') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

weeks as (
    select * from {{ ref('int_weeks') }}
),

activity as (
    {{ usage_activity(
        'events',
        'daily',
        ['account_id', 'feature_key', 'user_id', 'event_date'],
        'is_feature_use and ' ~ in_window('event_date', window_start),
    ) }}
),

feature_events as (
    select
        account_id,
        feature_key,
        user_id,
        event_count,
        loaded_at,
        cast({{ dbt.date_trunc('week', 'event_date') }} as date) as week_start
    from activity
),

{# Aggregated in two steps (user-weeks, then account-feature-weeks) rather than with
    count(distinct user_id), which holds every group's distinct users until the end: counts,
    sums and maxima spill to disk when they do not fit in memory_limit (DECISIONS.md, "Weekly
    adoption counted in two steps"). A group of daily counts without a user makes
    active_users null (macros/usage_activity.sql). -#}
user_weeks as (
    select
        account_id,
        feature_key,
        week_start,
        user_id,
        sum(event_count) as feature_events,
        max(loaded_at) as last_loaded_at
    from feature_events
    group by account_id, feature_key, week_start, user_id
),

aggregated as (
    select
        account_id,
        feature_key,
        week_start,
        {{ users_counted('count(user_id)') }} as active_users,
        sum(feature_events) as feature_events,
        max(last_loaded_at) as last_loaded_at
    from user_weeks
    group by account_id, feature_key, week_start
),

final as (
    select
        aggregated.account_id,
        aggregated.feature_key,
        features.feature_module,
        features.is_core,
        aggregated.week_start,
        weeks.is_complete_week,
        cast(aggregated.active_users as {{ dbt.type_bigint() }}) as active_users,
        cast(aggregated.feature_events as {{ dbt.type_bigint() }}) as feature_events,
        aggregated.last_loaded_at
    from aggregated
    inner join features
        on aggregated.feature_key = features.feature_key
    inner join weeks
        on aggregated.week_start = weeks.week_start
)

select * from final
{{ clustered_by('week_start') }}
