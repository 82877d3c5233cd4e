{#- Weighted mean of the scores that are not null: a missing score re-weights the others
    instead of counting as 0. `pairs` is a list of [score expression, weight expression].
    Rounded to 6 decimals: weights like 0.6 + 0.3 + 0.1 do not add up to exactly 1 in floating
    point, and a score of 100 must not come out as 100.00000000000001.
    present_weight(pairs) is the sum of the weights of the scores present. -#}
{% macro present_weight(pairs) -%}
    (
        {%- for score, weight in pairs %}
            case when {{ score }} is null then 0 else {{ weight }} end
            {%- if not loop.last %} +{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{% macro reweighted_mean(pairs) -%}
    {%- set weighted_sum -%}
        (
            {%- for score, weight in pairs %}
                coalesce({{ score }} * {{ weight }}, 0)
                {%- if not loop.last %} +{% endif %}
            {%- endfor %}
        ) / {{ present_weight(pairs) }}
    {%- endset -%}
    case
        when {{ present_weight(pairs) }} > 0
            then {{ round_double(weighted_sum, 6) }}
    end
{%- endmacro %}

{#- round_double(expression, digits): a double rounded to `digits` decimals, as a double.
    Postgres has round(numeric, int) only, so it rounds through numeric and back. -#}
{% macro round_double(expression, digits) -%}
    {{ return(adapter.dispatch('round_double', 'customer_outcomes')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_double(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_double(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}
