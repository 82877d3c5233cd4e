with

source as (
    select * from {{ source('success', 'renewal_intents') }}
),

deduplicated as (
    {{ latest_per_key('source', 'checkin_id') }}
),

renamed as (
    select
        checkin_id,
        account_id,
        contract_id,
        cast(asked_on as date) as asked_on,
        answer as intent_answer,
        {{ redact_emails('notes') }} as notes_redacted,
        _loaded_at as loaded_at
    from deduplicated
)

select * from renamed
