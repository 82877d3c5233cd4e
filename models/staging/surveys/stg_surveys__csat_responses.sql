with

source as (
    select * from {{ source('surveys', 'csat_responses') }}
),

deduplicated as (
    {{ latest_per_key('source', 'response_id') }}
),

renamed as (
    select
        response_id,
        account_id,
        user_id,
        cast(score as {{ dbt.type_int() }}) as score,
        score >= 4 as is_satisfied,
        touchpoint,
        cast(responded_at as {{ dbt.type_timestamp() }}) as responded_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
