{#- Net Promoter Score, -100..100 (docs/metrics.md): 100 * (promoters - detractors) / responses,
    in floating point so no engine divides integers; null without responses. One definition
    for the monthly marts, the health sentiment and the renewal features. -#}
{% macro nps(promoters, detractors, responses) -%}
    case
        when {{ responses }} > 0
            then cast(100.0 * ({{ promoters }} - {{ detractors }}) as {{ type_double() }})
            / {{ responses }}
    end
{%- endmacro %}
