with

source as (
    select * from {{ source('crm', 'accounts') }}
),

latest_versions as (
    {{ latest_per_key(
        'source',
        'account_id',
        'updated_at desc, _loaded_at desc, _source_file desc'
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
        _source_file as source_file,
        _loaded_at as loaded_at
    from latest_versions
)

select * from renamed
