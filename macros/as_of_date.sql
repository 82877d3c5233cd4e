{#- The date everything "current" is computed at (docs/metrics.md): the `as_of_date` var when
    set, else the OUTCOMES_AS_OF_DATE environment variable (how `outcomes`, the Dagster job and
    the benchmark pass a replay date), else today.

    The environment variable exists for partial parsing: dbt parses the whole project again
    whenever a --vars value changes (8.4 s here against 5.1 s), but not for a changed
    environment variable that no file read while being parsed. So the variable is read only
    when the SQL is compiled (`execute`), never at parse time: dbt records the variables a file
    reads at parse time and parses those files again when a value changes (5.6 s against
    3.9 s for a daily build's start-up, measured). Nothing reads the date at parse time: it
    appears in SQL only, never in a config(). -#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of_date', none) or (env_var('OUTCOMES_AS_OF_DATE', '') if execute else '') -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
