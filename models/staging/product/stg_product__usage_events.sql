{#- Events arrive at least once: the first delivery of each event_id wins. -#}
with

source as (
    select * from {{ source('product', 'usage_events') }}
),

deduplicated as (
    {{ latest_per_key('source', 'event_id', 'received_at, _loaded_at, _source_file') }}
),

renamed as (
    select
        event_id,
        account_id,
        user_id,
        event_name,
        feature_key,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast(occurred_at as date) as event_date,
        event_name = 'session_start' as is_session_start,
        event_name = 'feature_used' as is_feature_use,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
