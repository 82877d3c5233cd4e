{#- Account-day usage, incremental (macros/incremental.sql): a run recomputes the days from
    `usage_lookback_days` before the newest day it holds and replaces them whole, so events a
    few days late are counted and a re-run gives the same rows. It reads the events,
    de-duplicated from their deliveries, and the daily counts (macros/usage_activity.sql);
    active_users is null on a day with a count not broken down by user. -#}
{{ config(**incremental_events_config('usage_date')) }}
{%- set window_start = event_window_start('usage_date') %}

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

activity as (
    {{ usage_activity(
        'events',
        'daily',
        ['account_id', 'user_id', 'event_date', 'feature_key', 'is_session_start', 'is_feature_use'],
        '(is_session_start or is_feature_use) and ' ~ in_window('event_date', window_start),
    ) }}
),

counted_events as (
    select
        activity.account_id,
        activity.user_id,
        activity.event_date,
        activity.feature_key,
        activity.is_session_start,
        activity.is_feature_use,
        activity.event_count,
        activity.loaded_at,
        coalesce(features.is_core, false) as is_core_feature
    from activity
    left join features
        on activity.feature_key = features.feature_key
),

aggregated as (
    select
        account_id,
        event_date as usage_date,
        {{ users_counted('count(distinct user_id)') }} as active_users,
        sum(case when is_session_start then event_count else 0 end) as sessions,
        sum(case when is_feature_use then event_count else 0 end) as feature_events,
        count(distinct case when is_feature_use then feature_key end) as distinct_features,
        count(distinct case when is_feature_use and is_core_feature then feature_key end)
            as distinct_core_features,
        max(loaded_at) as last_loaded_at
    from counted_events
    group by account_id, event_date
),

final as (
    select
        account_id,
        usage_date,
        cast(active_users as {{ dbt.type_bigint() }}) as active_users,
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        cast(feature_events as {{ dbt.type_bigint() }}) as feature_events,
        cast(distinct_features as {{ dbt.type_bigint() }}) as distinct_features,
        cast(distinct_core_features as {{ dbt.type_bigint() }}) as distinct_core_features,
        last_loaded_at
    from aggregated
)

select * from final
{{ clustered_by('usage_date') }}
