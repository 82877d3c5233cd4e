{#- Every recorded version of every account, for point-in-time questions ("which segment was
    it in on that date?"). One row per account and updated_at; the latest load wins. -#}
with

source as (
    select * from {{ source('crm', 'accounts') }}
),

deduplicated as (
    {{ latest_per_key(
        'source',
        "account_id || '|' || cast(updated_at as " ~ dbt.type_string() ~ ")"
    ) }}
),

renamed as (
    select
        account_id,
        account_name,
        segment,
        industry,
        region,
        {{ hash_pii('csm_owner') }} as csm_owner_hash,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
