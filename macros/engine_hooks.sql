{#- Run hooks that differ by engine.

    grant_marts_schema (on-run-end): the `grants` config gives the BI role select on each
    mart; the role also needs usage on the marts schema, and on nothing else. -#}
{% macro grant_marts_schema() -%}
    {%- if target.type == 'postgres' -%}
        grant usage on schema {{ generate_schema_name('marts', none) }}
        to {{ env_var('OUTCOMES_BI_ROLE', 'bi_reader') }}
    {%- else -%}
        select 1 as nothing_to_grant
    {%- endif -%}
{%- endmacro %}

{#- register_raw_parquet (on-run-start, Spark only): declares every raw source as a Parquet
    table in Spark's catalog, from the folder OUTCOMES_SPARK_RAW (one sub-folder per table,
    as `outcomes copy-raw --to parquet` writes them). Without the variable nothing happens:
    the raw tables are then expected to exist already. -#}
{% macro register_raw_parquet() -%}
    {%- set location = env_var('OUTCOMES_SPARK_RAW', '') -%}
    {%- if execute and target.type == 'spark' and location -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() if source.schema == 'raw' -%}
            {%- do run_query('drop table if exists raw.' ~ source.identifier) -%}
            {%- do run_query(
                'create table raw.' ~ source.identifier ~ " using parquet location '"
                ~ location ~ '/' ~ source.identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
