{#- Fails for every key whose rows differ in any of `columns`: a key may repeat (an event's
    re-deliveries) but only with the same content. Nulls compare equal here (select distinct).
    On a column: the column is the key. -#}
{% test same_content_per_key(model, column_name, columns) %}
    {{ return(adapter.dispatch('test_same_content_per_key', 'customer_outcomes')(
        model, column_name, columns
    )) }}
{% endtest %}
