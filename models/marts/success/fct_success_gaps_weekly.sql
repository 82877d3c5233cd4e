{#- Weekly history of the success gap: vendor view (health that week) against the customer's
    view as of the week's end, for every account-week with a contract in force.
    Incremental like its inputs (macros/incremental.sql). -#}
{{ config(**snapshot_incremental_config('week_start', grain='week')) }}
{%- set window_start = snapshot_window_start('week_start', grain='week') %}
with

health as (
    select * from {{ ref('fct_account_health') }}
    where {{ in_window('week_start', window_start) }}
),

customer_view as (
    select * from {{ ref('int_account_customer_view_snapshots') }}
    where {{ in_window('week_start', window_start) }}
),

joined as (
    select
        health.account_id,
        health.week_start,
        health.health_score as vendor_view_score,
        health.health_band,
        customer_view.customer_view_score,
        customer_view.value_realization_level,
        customer_view.latest_intent_answer
    from health
    inner join customer_view
        on
            health.account_id = customer_view.account_id
            and health.week_end = customer_view.snapshot_date
),

final as (
    select
        account_id,
        week_start,
        cast(vendor_view_score as {{ type_double() }}) as vendor_view_score,
        cast(customer_view_score as {{ type_double() }}) as customer_view_score,
        cast(vendor_view_score - customer_view_score as {{ type_double() }}) as gap_score,
        {{ gap_type('vendor_view_score', 'customer_view_score', 'value_realization_level') }}
            as gap_type,
        health_band,
        value_realization_level,
        latest_intent_answer
    from joined
)

select * from final
{{ clustered_by('week_start') }}
