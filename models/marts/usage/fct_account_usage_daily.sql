{#- Account-day usage, incremental (see macros/incremental_events.sql): a run recomputes the
    days that received newly loaded events plus the last `usage_lookback_days` days, and
    replaces those days whole, so late events are counted and a re-run gives the same rows. -#}
{{ config(**incremental_events_config('usage_date')) }}
{%- set days = events_to_refresh('usage_date') %}

with

events as (
    select * from {{ ref('stg_product__usage_events') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

counted_events as (
    select
        events.account_id,
        events.user_id,
        events.event_date,
        events.feature_key,
        events.is_session_start,
        events.is_feature_use,
        events.loaded_at,
        coalesce(features.is_core, false) as is_core_feature
    from events
    left join features
        on events.feature_key = features.feature_key
    where
        (events.is_session_start or events.is_feature_use)
        and {{ events_refresh_predicate(days, 'events.event_date', 'events.event_date') }}
),

aggregated as (
    select
        account_id,
        event_date as usage_date,
        count(distinct user_id) as active_users,
        sum(case when is_session_start then 1 else 0 end) as sessions,
        sum(case when is_feature_use then 1 else 0 end) as feature_events,
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
