with

source as (
    select * from {{ source('product', 'users') }}
),

deduplicated as (
    {{ latest_per_key('source', 'user_id') }}
),

renamed as (
    select
        user_id,
        account_id,
        {{ hash_pii('email') }} as email_hash,
        role as user_role,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(deactivated_at as {{ dbt.type_timestamp() }}) as deactivated_at,
        deactivated_at is not null as is_deactivated,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
