{#- Weekly health score: the weighted mean of the components that can be measured, weights
    from the health_weights seed; a missing component re-weights the others instead of
    scoring 0. Bands: green >= health_green_min, red < health_red_below, else yellow.
    Incremental like its components (macros/incremental.sql). health_change is against the
    account's previous scored week, which can be weeks back (out of force in between): for an
    account with weeks before the window, that is its latest week kept in the table. -#}
{{ config(**snapshot_incremental_config('week_start', grain='week')) }}
{%- set window_start = snapshot_window_start('week_start', grain='week') %}
with

components as (
    select * from {{ ref('int_account_health_components') }}
    where {{ in_window('week_start', window_start) }}
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

{%- if window_start is not none %}

kept_latest as (
    select
        kept.account_id,
        max(kept.week_start) as week_start
    from {{ this }} as kept
    where not ({{ in_window('kept.week_start', window_start) }})
    group by kept.account_id
),
{%- endif %}

scores as (
    select
        account_id,
        week_start,
        health_score
    from scored
    {%- if window_start is not none %}
    union all
    select
        kept.account_id,
        kept.week_start,
        kept.health_score
    from {{ this }} as kept
    inner join kept_latest
        on
            kept.account_id = kept_latest.account_id
            and kept.week_start = kept_latest.week_start
    {%- endif %}
),

score_changes as (
    select
        account_id,
        week_start,
        health_score - lag(health_score) over (partition by account_id order by week_start)
            as health_change
    from scores
),

final as (
    select
        scored.account_id,
        scored.week_start,
        scored.week_end,
        cast(scored.breadth_score as {{ type_double() }}) as breadth_score,
        cast(scored.depth_score as {{ type_double() }}) as depth_score,
        cast(scored.frequency_score as {{ type_double() }}) as frequency_score,
        cast(scored.trend_score as {{ type_double() }}) as trend_score,
        cast(scored.sentiment_score as {{ type_double() }}) as sentiment_score,
        cast(scored.weight_present as {{ type_double() }}) as weight_present,
        cast(scored.health_score as {{ type_double() }}) as health_score,
        {{ health_band('scored.health_score') }} as health_band,
        cast(score_changes.health_change as {{ type_double() }}) as health_change,
        cast(scored.weekly_active_users as {{ dbt.type_bigint() }}) as weekly_active_users,
        cast(scored.seats as {{ dbt.type_bigint() }}) as seats,
        cast(scored.core_features_used as {{ dbt.type_bigint() }}) as core_features_used
    from scored
    inner join score_changes
        on
            scored.account_id = score_changes.account_id
            and scored.week_start = score_changes.week_start
)

select * from final
{{ clustered_by('week_start') }}
