{#- Daily usage counts, one row per key (account, day, user, event, feature): a re-delivered
    key replaces the earlier row, so the latest load wins (a null user or feature is part of
    the key). The day is named event_date, as on the events, so the usage models read both
    sources alike (macros/usage_activity.sql). A daily export carries no receipt time: a row
    counts as known at the end of its day (received_at), which is what the point-in-time
    models (renewal windows, product-measured goals) compare with their cut-offs. -#}
with

source as (
    select * from {{ source('product', 'usage_daily') }}
),

deduplicated as (
    {{ latest_per_key('source', 'usage_date, account_id, user_id, event_name, feature_key') }}
),

renamed as (
    select
        account_id,
        user_id,
        event_name,
        feature_key,
        usage_date as event_date,
        cast(event_count as {{ dbt.type_bigint() }}) as event_count,
        cast({{ dbt.dateadd('day', 1, 'usage_date') }} as {{ dbt.type_timestamp() }})
            as received_at,
        event_name = 'session_start' as is_session_start,
        event_name = 'feature_used' as is_feature_use,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from deduplicated
)

select * from renamed
