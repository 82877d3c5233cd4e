{#- `order by <column>` at the end of an incremental model's select, on DuckDB: rows written in
    date order give each row group a narrow min/max of that date (DuckDB's zone maps), so an
    incremental run's delete of the periods it recomputes, and the date filters of the models
    reading the recent weeks, skip the row groups of the history.

    Without it a full build writes rows in hash-aggregate order and every row group spans every
    date (measured at 100 M events: all 90 row groups of fct_account_usage_daily spanned
    2024-07-01 to 2026-07-10, and 36 to 82 row groups of each snapshot model did the same), so
    the first daily run after a full rebuild deleted rows from every row group of every
    incremental model. Postgres and Spark store and prune differently (Spark partitions the
    event models by period already), so nothing is added there. -#}
{% macro clustered_by(column) -%}
    {%- if target.type == 'duckdb' %}
order by {{ column }}
    {%- endif -%}
{%- endmacro %}
