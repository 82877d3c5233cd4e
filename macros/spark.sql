{#- Spark without Delta (no Delta jars here): Parquet tables cannot take
    `alter column ... set not null`. The contract's not_null constraints are skipped there with
    a note; every such column also has a not_null data test, which runs on every engine. -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) %}
    {%- for column_name in column_dict -%}
        {%- for constraint in column_dict[column_name]['constraints'] -%}
            {%- if constraint.type == 'not_null' and execute -%}
                {{ log(
                    "customer_outcomes: " ~ relation ~ "." ~ column_name ~ ": not_null "
                    ~ "constraint not enforced on Parquet tables (its not_null test runs)",
                    info=False
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}
