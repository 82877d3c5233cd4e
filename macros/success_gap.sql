{#- The success-gap quadrant of an account (docs/metrics.md) from the vendor's view (health,
    0-100) and the customer's view (0-100):
      no_goals       the customer's own goals are not measured (value realization unknown)
      usage_trap     customer view low, vendor view high: every usage dashboard says "fine"
      at_risk        customer view low, vendor view not high
      quiet_success  customer view high, vendor view low: goals met with little usage
      healthy        customer view high, vendor view not low
    Thresholds: vars customer_view_low_below, vendor_view_high_min, vendor_view_low_below. -#}
{% macro gap_type(vendor_view, customer_view, value_level) -%}
    case
        when {{ value_level }} = 'unknown' or {{ value_level }} is null then 'no_goals'
        when {{ customer_view }} < {{ var('customer_view_low_below') }} then
            case
                when coalesce({{ vendor_view }}, 0) >= {{ var('vendor_view_high_min') }}
                    then 'usage_trap'
                else 'at_risk'
            end
        when coalesce({{ vendor_view }}, 0) < {{ var('vendor_view_low_below') }} then 'quiet_success'
        else 'healthy'
    end
{%- endmacro %}
