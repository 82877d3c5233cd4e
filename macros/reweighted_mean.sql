{#- Weighted mean of the scores that are not null: a missing score re-weights the others
    instead of counting as 0. `pairs` is a list of [score expression, weight expression].
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
            then (
                {%- for score, weight in pairs %}
                    coalesce({{ score }} * {{ weight }}, 0)
                    {%- if not loop.last %} +{% endif %}
                {%- endfor %}
            ) / {{ present_weight(pairs) }}
    end
{%- endmacro %}
