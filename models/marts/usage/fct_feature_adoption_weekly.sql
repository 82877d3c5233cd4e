with

events as (
    select * from {{ ref('stg_product__usage_events') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

weeks as (
    select * from {{ ref('int_weeks') }}
),

feature_events as (
    select
        account_id,
        feature_key,
        user_id,
        cast({{ dbt.date_trunc('week', 'event_date') }} as date) as week_start
    from events
    where is_feature_use
),

aggregated as (
    select
        account_id,
        feature_key,
        week_start,
        count(distinct user_id) as active_users,
        count(*) as feature_events
    from feature_events
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
        cast(aggregated.feature_events as {{ dbt.type_bigint() }}) as feature_events
    from aggregated
    inner join features
        on aggregated.feature_key = features.feature_key
    inner join weeks
        on aggregated.week_start = weeks.week_start
)

select * from final
