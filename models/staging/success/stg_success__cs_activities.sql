{#- The plays CSMs ran, one row per activity. An activity is delivered open, then again when it
    closes: a closed delivery wins over an open one, else the latest load. The owner's email is
    hashed. -#}
with

source as (
    select * from {{ source('success', 'cs_activities') }}
),

deduplicated as (
    {{ latest_per_key(
        'source',
        'activity_id',
        'closed_at is null, _loaded_at desc, _source_file desc'
    ) }}
),

renamed as (
    select
        activity_id,
        account_id,
        play_key,
        trigger_type,
        {{ hash_pii('owner') }} as owner_hash,
        cast(opened_at as {{ dbt.type_timestamp() }}) as opened_at,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        outcome,
        closed_at is null as is_open,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
