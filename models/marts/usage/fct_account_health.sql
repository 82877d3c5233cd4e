{#- Weekly health score: the weighted mean of the components that can be measured, weights
    from the health_weights seed; a missing component re-weights the others instead of
    scoring 0. Bands: green >= health_green_min, red < health_red_below, else yellow. -#}
with

components as (
    select * from {{ ref('int_account_health_components') }}
),

weights as (
    select * from {{ ref('health_weights') }}
),

weights_pivoted as (
    {{ health_weights_pivoted('weights') }}
),

{%- set components = health_score_pairs() %}

scored as (
    select
        components.*,
        {{ present_weight(components) }} as weight_present,
        {{ reweighted_mean(components) }} as health_score
    from components
    cross join weights_pivoted
),

final as (
    select
        account_id,
        week_start,
        week_end,
        cast(breadth_score as {{ type_double() }}) as breadth_score,
        cast(depth_score as {{ type_double() }}) as depth_score,
        cast(frequency_score as {{ type_double() }}) as frequency_score,
        cast(trend_score as {{ type_double() }}) as trend_score,
        cast(sentiment_score as {{ type_double() }}) as sentiment_score,
        cast(weight_present as {{ type_double() }}) as weight_present,
        cast(health_score as {{ type_double() }}) as health_score,
        {{ health_band('health_score') }} as health_band,
        cast(
            health_score - lag(health_score) over (partition by account_id order by week_start)
            as {{ type_double() }}
        ) as health_change,
        cast(weekly_active_users as {{ dbt.type_bigint() }}) as weekly_active_users,
        cast(seats as {{ dbt.type_bigint() }}) as seats,
        cast(core_features_used as {{ dbt.type_bigint() }}) as core_features_used
    from scored
)

select * from final
