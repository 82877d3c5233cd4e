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

{#- Hooks of the incremental models that end in clustered_by: when the model is built whole (a
    full refresh, or its first build) on DuckDB, its insert need not keep the order of the
    sorted rows (preserve_insertion_order = false, DuckDB's advice for its out-of-memory
    errors), and the setting is reset after. A full refresh of the weekly adoption at 110 M
    events, a sorted insert into the table created in the same transaction, otherwise ran out
    of memory under 3GB every time; unordered, it passes and its row groups span the same few
    days (DECISIONS.md, "Memory"). The hooks run outside the model's transaction: set inside
    it, after dbt's BEGIN, the setting did not reach the insert (the same full refresh ran
    out of memory). Incremental runs insert a few days and keep the default, which is faster
    for them (a daily build at 100 M took 1.5-3 s longer with the setting on every node). -#}
{% macro unordered_full_insert(step) -%}
    {%- if execute and target.type == 'duckdb' -%}
        {#- After the model is built its table exists, so is_incremental() no longer tells a
            first build apart: the reset runs after every build (it costs nothing). -#}
        {%- if step == 'after' -%}
            reset preserve_insertion_order
        {%- elif not is_incremental() -%}
            set preserve_insertion_order = false
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
