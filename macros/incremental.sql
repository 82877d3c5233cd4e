{#- Incremental models: a run recomputes a trailing window and leaves older rows alone. Data
    that arrives later than the window is picked up by the weekly full refresh (the
    `full_refresh` job, `dbt build --full-refresh`).

    Two kinds:
      - event models (usage per account-day, per account-week, feature adoption): delete+insert
        by period (insert_overwrite of the period partitions on Spark). The window starts
        `usage_lookback_days` before the newest period the table holds.
      - snapshot models (account or goal x snapshot date, week or month): the window starts
        `snapshot_lookback_days` before the earlier of the newest snapshot the table holds and
        the as-of date. A pre-hook deletes every row from the window start, the model appends
        the recomputed rows, both in the model's transaction; so a past "current" snapshot that
        is not a week end disappears as it does in a full build. Tables on Spark (no delete
        without Delta there). -#}

{#- The as-of date as a date value (macros/as_of_date.sql holds the SQL form). -#}
{% macro as_of_value() -%}
    {%- set text = var('as_of_date', none) or env_var('OUTCOMES_AS_OF_DATE', '') -%}
    {%- if text -%}
        {{ return(modules.datetime.datetime.strptime(text | string, '%Y-%m-%d').date()) }}
    {%- endif -%}
    {{ return(modules.datetime.date.today()) }}
{%- endmacro %}

{#- The first date an incremental run recomputes: `lookback_days` before the newest
    `date_column` the table holds (or before `cap`, a date, when that is earlier), truncated to
    the grain (day, week, month); none on a full build or when the table is empty. -#}
{% macro incremental_window_start(date_column, lookback_days, grain='day', cap=none) -%}
    {%- if not (execute and is_incremental()) -%}{{ return(none) }}{%- endif -%}
    {%- set newest = run_query(
        'select max(' ~ date_column ~ ') from ' ~ this
    ).columns[0].values()[0] -%}
    {%- if newest is none -%}{{ return(none) }}{%- endif -%}
    {%- set newest = newest.date() if newest.hour is defined else newest -%}
    {%- if cap is not none -%}
        {%- set newest = [newest, cap] | min -%}
    {%- endif -%}
    {%- set start = newest - modules.datetime.timedelta(days=lookback_days) -%}
    {%- if grain == 'week' -%}
        {%- set start = start - modules.datetime.timedelta(days=start.weekday()) -%}
    {%- elif grain == 'month' -%}
        {%- set start = start.replace(day=1) -%}
    {%- endif -%}
    {{ return(start) }}
{%- endmacro %}

{#- `expression >= start` (less days_before, for inputs that trailing windows read), or true
    on a full build. A literal bound, so DuckDB prunes the scan of a table written in date
    order. -#}
{% macro in_window(expression, start, days_before=0) -%}
    {%- if start is none -%}
        1 = 1
    {%- else -%}
        {{ expression }} >= cast('{{ start - modules.datetime.timedelta(days=days_before) }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- Event models. -#}
{% macro event_window_start(period_column, grain='day') -%}
    {{ return(incremental_window_start(period_column, var('usage_lookback_days'), grain)) }}
{%- endmacro %}

{% macro incremental_events_config(period_column) -%}
    {%- set config = {
        'materialized': 'incremental',
        'unique_key': period_column,
        'on_schema_change': 'append_new_columns',
    } -%}
    {%- if target.type == 'spark' -%}
        {%- do config.update({
            'incremental_strategy': 'insert_overwrite',
            'partition_by': [period_column],
            'file_format': 'parquet',
        }) -%}
    {%- else -%}
        {%- do config.update({'incremental_strategy': 'delete+insert'}) -%}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}

{#- Snapshot models. -#}
{% macro snapshot_window_start(date_column, grain='day') -%}
    {%- if not (execute and is_incremental()) -%}{{ return(none) }}{%- endif -%}
    {{ return(incremental_window_start(
        date_column, var('snapshot_lookback_days'), grain, cap=as_of_value()
    )) }}
{%- endmacro %}

{% macro delete_snapshot_window(date_column, grain) -%}
    {%- if execute and is_incremental() -%}
        {%- set start = snapshot_window_start(date_column, grain) -%}
        {%- if start is not none -%}
            delete from {{ this }} where {{ in_window(date_column, start) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro snapshot_incremental_config(date_column, grain='day') -%}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
        'pre_hook': ["{{ delete_snapshot_window('" ~ date_column ~ "', '" ~ grain ~ "') }}"],
    }) }}
{%- endmacro %}
