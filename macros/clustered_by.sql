{#- `order by <column>` at the end of an incremental model's select, on DuckDB: rows written in
    date order give each row group a narrow min/max of that date (DuckDB's zone maps), so an
    incremental run's delete of its window, and the date filters of the models reading the
    recent weeks, skip the row groups of the history. Postgres and Spark store and prune
    differently (Spark partitions the event models by period already), so nothing is added
    there. -#}
{% macro clustered_by(column) -%}
    {%- if target.type == 'duckdb' %}
order by {{ column }}
    {%- endif -%}
{%- endmacro %}
