{#- The staged columns of a usage event (stg_product__usage_events and
    stg_product__usage_event_deliveries), from a relation with the raw columns and event_date. -#}
{% macro staged_usage_event_columns() -%}
    event_id,
    account_id,
    user_id,
    event_name,
    feature_key,
    cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
    cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
    event_date,
    event_name = 'session_start' as is_session_start,
    event_name = 'feature_used' as is_feature_use,
    cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
{%- endmacro %}
