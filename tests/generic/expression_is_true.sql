{#- Fails for every row where the SQL expression is false. On a column, the expression is
    appended to the column (`expression: ">= 0"`); on a model it stands alone
    (`expression: "end_date >= start_date"`). Rows where the expression is null pass, as
    not_null is a test of its own. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    {% if column_name is none -%}
    where not ({{ expression }})
    {%- else -%}
    where not ({{ column_name }} {{ expression }})
    {%- endif %}
{% endtest %}
