with

source as (
    select * from {{ source('surveys', 'nps_responses') }}
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
        case
            when score >= 9 then 'promoter'
            when score >= 7 then 'passive'
            else 'detractor'
        end as nps_category,
        {{ redact_emails('comment') }} as comment_redacted,
        cast(responded_at as {{ dbt.type_timestamp() }}) as responded_at,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
