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
    case
        when {{ present_weight(pairs) }} > 0
            then round((
                {%- for score, weight in pairs %}
                    coalesce({{ score }} * {{ weight }}, 0)
                    {%- if not loop.last %} +{% endif %}
                {%- endfor %}
            ) / {{ present_weight(pairs) }}, 6)
    end
{%- endmacro %}
