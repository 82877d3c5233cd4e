{#- How far the as-of date lies past the newest data loaded: one row. When it is more than
    var freshness_warn_days past the newest event, contract, survey or goal measurement known
    by the as-of date, the build warns (macros/freshness.sql), and `outcomes run` and the
    dashboard say so: figures "as of" a date the data does not reach are extrapolations. -#}
{{ config(tags=['as_of'], post_hook="{{ warn_when_stale() }}") }}
with

usage_days as (
    select max(usage_date) as newest_date
    from {{ ref('fct_account_usage_daily') }}
    where usage_date <= {{ as_of_date() }}
),

contracts as (
    select max(cast(coalesce(signed_at, start_date) as date)) as newest_date
    from {{ ref('stg_billing__contracts') }}
    where cast(coalesce(signed_at, start_date) as date) <= {{ as_of_date() }}
),

surveys as (
    select max(responded_on) as newest_date
    from (
        select cast(responded_at as date) as responded_on
        from {{ ref('stg_surveys__nps_responses') }}
        union all
        select cast(responded_at as date) as responded_on
        from {{ ref('stg_surveys__csat_responses') }}
    ) as responses
    where responded_on <= {{ as_of_date() }}
),

measurements as (
    select max(cast(recorded_at as date)) as newest_date
    from {{ ref('stg_success__goal_measurements') }}
    where cast(recorded_at as date) <= {{ as_of_date() }}
),

newest as (
    select
        {{ as_of_date() }} as as_of_date,
        usage_days.newest_date as newest_event_date,
        contracts.newest_date as newest_contract_date,
        surveys.newest_date as newest_survey_date,
        measurements.newest_date as newest_measurement_date,
        greatest(
            usage_days.newest_date,
            contracts.newest_date,
            surveys.newest_date,
            measurements.newest_date
        ) as newest_data_date
    from usage_days
    cross join contracts
    cross join surveys
    cross join measurements
),

days_past as (
    select
        *,
        {{ dbt.datediff('newest_data_date', 'as_of_date', 'day') }}
            as days_past_newest_data
    from newest
),

final as (
    select
        *,
        {{ var('freshness_warn_days') }} as freshness_warn_days,
        coalesce(days_past_newest_data > {{ var('freshness_warn_days') }}, true) as is_stale
    from days_past
)

select * from final
