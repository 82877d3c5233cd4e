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
    select
        sum(case when component = 'breadth' then weight else 0 end) as w_breadth,
        sum(case when component = 'depth' then weight else 0 end) as w_depth,
        sum(case when component = 'frequency' then weight else 0 end) as w_frequency,
        sum(case when component = 'trend' then weight else 0 end) as w_trend,
        sum(case when component = 'sentiment' then weight else 0 end) as w_sentiment
    from weights
),

{%- set components = [
    ['components.breadth_score', 'weights_pivoted.w_breadth'],
    ['components.depth_score', 'weights_pivoted.w_depth'],
    ['components.frequency_score', 'weights_pivoted.w_frequency'],
    ['components.trend_score', 'weights_pivoted.w_trend'],
    ['components.sentiment_score', 'weights_pivoted.w_sentiment'],
] %}

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
        case
            when health_score is null then null
            when health_score >= {{ var('health_green_min') }} then 'green'
            when health_score < {{ var('health_red_below') }} then 'red'
            else 'yellow'
        end as health_band,
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
