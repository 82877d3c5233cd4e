{#- Account-day usage, incremental (macros/incremental.sql): a run recomputes the days from
    `usage_lookback_days` before the newest day it holds and replaces them whole, so events a
    few days late are counted and a re-run gives the same rows. Events are de-duplicated from
    their deliveries (macros/deduplicated_events.sql). -#}
{{ config(**incremental_events_config('usage_date')) }}
{%- set window_start = event_window_start('usage_date') %}

with

events as (
    select * from {{ ref('stg_product__usage_event_deliveries') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

deduplicated as (
    {{ deduplicated_events(
        'events',
        ['account_id', 'user_id', 'event_date', 'feature_key', 'is_session_start', 'is_feature_use'],
        '(is_session_start or is_feature_use) and ' ~ in_window('event_date', window_start),
    ) }}
),

counted_events as (
    select
        deduplicated.account_id,
        deduplicated.user_id,
        deduplicated.event_date,
        deduplicated.feature_key,
        deduplicated.is_session_start,
        deduplicated.is_feature_use,
        deduplicated.loaded_at,
        coalesce(features.is_core, false) as is_core_feature
    from deduplicated
    left join features
        on deduplicated.feature_key = features.feature_key
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
