{#- The success-gap quadrant of an account (DOMAIN.md §1) from the vendor's view (health,
    0-100) and the customer's view (0-100):
      no_goals       the customer's own goals are not measured (value realization unknown)
      usage_trap     vendor view high, customer view low: every usage dashboard says "fine"
      at_risk        both low
      quiet_success  vendor view low, customer view high
      healthy        both high
    Thresholds: vars vendor_view_high_min and customer_view_low_below. -#}
{% macro gap_type(vendor_view, customer_view, value_level) -%}
    case
        when {{ value_level }} = 'unknown' or {{ value_level }} is null then 'no_goals'
        when
            coalesce({{ vendor_view }}, 0) >= {{ var('vendor_view_high_min') }}
            and {{ customer_view }} < {{ var('customer_view_low_below') }}
            then 'usage_trap'
        when {{ customer_view }} < {{ var('customer_view_low_below') }} then 'at_risk'
        when coalesce({{ vendor_view }}, 0) < {{ var('vendor_view_high_min') }} then 'quiet_success'
        else 'healthy'
    end
{%- endmacro %}
