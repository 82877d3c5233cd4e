{#- Every delivery of every event, as loaded: stg_product__usage_events without the
    de-duplication, for models whose figures are the same whichever copies they see.

    Events arrive at least once, and the loader quarantines a re-delivery whose content
    differs from the first (only received_at may differ). So a model that counts distinct
    event ids, users, days or features, and asks whether an event was received by a date (some
    copy was exactly when the first was), gets the de-duplicated answer from this view without
    paying for the de-duplication (a window over every event of the dates it reads: at 100 M
    events, 5 of the renewal windows' 8 s). Anything that sums or counts rows must read
    stg_product__usage_events, or group the deliveries by event first, as the event models do
    (macros/usage_activity.sql): grouping costs less than the window. -#}
with

source as (
    select
        *,
        cast(occurred_at as date) as event_date
    from {{ source('product', 'usage_events') }}
),

renamed as (
    select {{ staged_usage_event_columns() }}
    from source
)

select * from renamed
