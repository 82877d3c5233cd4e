with

source as (
    select * from {{ source('billing', 'cancellations') }}
),

deduplicated as (
    {{ latest_per_key('source', 'cancellation_id') }}
),

renamed as (
    select
        cancellation_id,
        contract_id,
        account_id,
        cast(cancelled_at as {{ dbt.type_timestamp() }}) as cancelled_at,
        cast(effective_date as date) as effective_date,
        reason_code,
        reason_category,
        reason_category = 'external' as is_external,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
