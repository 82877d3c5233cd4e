with

source as (
    select * from {{ source('billing', 'contracts') }}
),

deduplicated as (
    {{ latest_per_key('source', 'contract_id') }}
),

renamed as (
    select
        contract_id,
        account_id,
        plan as plan_name,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        end_date is null as is_open_ended,
        cast(arr as {{ type_money() }}) as arr,
        cast(seats as {{ dbt.type_int() }}) as seats,
        cast(signed_at as {{ dbt.type_timestamp() }}) as signed_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
