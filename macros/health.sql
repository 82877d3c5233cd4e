{#- The health score's formulas, shared by the weekly health marts and the renewal features
    (which score the same components on windows ending at a cut-off). Each component is 0-100,
    null when it cannot be measured. -#}

{% macro breadth_score(core_used, core_available) -%}
    case when {{ core_available }} > 0 then 100.0 * {{ core_used }} / {{ core_available }} end
{%- endmacro %}

{#- A count of users is null where the usage was delivered without users (daily counts):
    the components built on one are then null, not scored (least() would skip the null). -#}
{% macro depth_score(active_users, seats) -%}
    case
        when {{ seats }} > 0 and {{ active_users }} is not null
            then 100.0 * least(1.0, 1.0 * {{ active_users }} / {{ seats }})
    end
{%- endmacro %}

{% macro frequency_score(user_days, active_users) -%}
    case
        when {{ active_users }} is null or {{ user_days }} is null then null
        when {{ active_users }} = 0 then 0.0
        else 100.0 * least(
            1.0, 1.0 * {{ user_days }} / {{ active_users }} / {{ var('frequency_target_days') }}
        )
    end
{%- endmacro %}

{% macro trend_score(recent, prior, too_new) -%}
    case
        when {{ too_new }} or {{ recent }} is null or {{ prior }} is null then null
        when {{ prior }} = 0 and {{ recent }} > 0 then 100.0
        when {{ prior }} = 0 then 0.0
        else 100.0 * least(1.0, 1.0 * {{ recent }} / {{ prior }})
    end
{%- endmacro %}

{#- nps on its -100..100 scale, csat_pct 0..100. -#}
{% macro sentiment_score(nps, csat_pct) -%}
    case
        when {{ nps }} is not null and {{ csat_pct }} is not null
            then (({{ nps }} + 100) / 2 + {{ csat_pct }}) / 2
        when {{ nps }} is not null then ({{ nps }} + 100) / 2
        else {{ csat_pct }}
    end
{%- endmacro %}

{% macro health_weights_pivoted(relation) -%}
    select
        {%- for component in ['breadth', 'depth', 'frequency', 'trend', 'sentiment'] %}
            sum(case when component = '{{ component }}' then weight else 0 end)
                as w_{{ component }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
{%- endmacro %}

{#- [score, weight] pairs for reweighted_mean(). -#}
{% macro health_score_pairs(scores='components', weights='weights_pivoted') -%}
    {%- set pairs = [] -%}
    {%- for component in ['breadth', 'depth', 'frequency', 'trend', 'sentiment'] -%}
        {%- do pairs.append([scores ~ '.' ~ component ~ '_score', weights ~ '.w_' ~ component]) -%}
    {%- endfor -%}
    {{ return(pairs) }}
{%- endmacro %}

{% macro health_band(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} >= {{ var('health_green_min') }} then 'green'
        when {{ score }} < {{ var('health_red_below') }} then 'red'
        else 'yellow'
    end
{%- endmacro %}
