with

source as (
    select * from {{ source('product', 'features') }}
),

deduplicated as (
    {{ latest_per_key('source', 'feature_key') }}
),

renamed as (
    select
        feature_key,
        feature_name,
        module as feature_module,
        is_core,
        cast(released_on as date) as released_on,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
