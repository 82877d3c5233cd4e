{#- Account-day usage, incremental. A run recomputes every day touched by events loaded since
    the last run plus the last `usage_lookback_days` days, and replaces those days whole
    (delete + insert), so late events are counted and a re-run gives the same rows. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='usage_date',
    on_schema_change='fail'
) }}

with

events as (
    select * from {{ ref('stg_product__usage_events') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

{% if is_incremental() %}
    processed as (
        select
            max(last_loaded_at) as last_loaded_at,
            max(usage_date) as last_usage_date
        from {{ this }}
    ),

    dates_to_refresh as (
        select distinct events.event_date
        from events
        cross join processed
        where
            events.loaded_at > processed.last_loaded_at
            or events.event_date >= cast(
                {{ dbt.dateadd('day', -var('usage_lookback_days'), 'processed.last_usage_date') }}
                as date
            )
    ),
{% endif %}

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
    {% if is_incremental() -%}
            and events.event_date in (select event_date from dates_to_refresh)
        {%- endif %}
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
