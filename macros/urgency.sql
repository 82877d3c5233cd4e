{#- How soon a renewal makes an intervention urgent: 1 at or past the renewal date,
    1 / (1 + days to renewal / 90) before it (0.5 at 90 days), 0.25 without a renewal date. -#}
{% macro renewal_urgency(days_to_renewal) -%}
    case
        when {{ days_to_renewal }} is null then 0.25
        when {{ days_to_renewal }} <= 0 then 1.0
        else 1.0 / (1 + {{ days_to_renewal }} / 90.0)
    end
{%- endmacro %}
