with

source as (
    select * from {{ source('success', 'goal_measurements') }}
),

deduplicated as (
    {{ latest_per_key('source', 'measurement_id') }}
),

renamed as (
    select
        measurement_id,
        goal_id,
        cast(measured_on as date) as measured_on,
        cast(value as {{ dbt.type_numeric() }}) as measured_value,
        source as measurement_source,
        cast(recorded_at as {{ dbt.type_timestamp() }}) as recorded_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
