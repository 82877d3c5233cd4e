{#- Incremental event models (fct_account_usage_daily, the weekly usage and adoption models).

    A run recomputes only the periods whose events changed: every event date that received
    events loaded after the newest load the model has seen (`last_loaded_at`), plus the last
    `usage_lookback_days` days it holds (late events that were loaded but belong to days the
    model already has are covered by the first rule; the lookback is the safety margin). Each
    model replaces those periods whole (delete+insert, or insert_overwrite by partition on
    Spark), so a re-run gives the same rows and --full-refresh rebuilds identically.

    The dates are worked out when the model compiles, from the raw source's `_loaded_at`
    (append-only and in load order, so the warehouse skips old row groups), and rendered as
    literals: the events scan is then pruned to those dates instead of reading the history.

    events_to_refresh(date_column, grain) returns none on a full build, else the sorted list
    of period starts (dates, or week starts when grain == 'week') to recompute. Given a
    `relation` (another incremental event model) it returns that model's list as its next
    incremental run would compute it (used by event_test_dates). -#}
{% macro events_to_refresh(date_column, grain='day', relation=none) -%}
    {%- if relation is none -%}
        {%- if not (execute and is_incremental()) -%}{{ return(none) }}{%- endif -%}
        {%- set relation = this -%}
    {%- endif -%}
    {%- set state = run_query(
        'select max(last_loaded_at), max(' ~ date_column ~ ') from ' ~ relation
    ) -%}
    {%- set last_loaded_at = state.columns[0].values()[0] -%}
    {%- set last_period = state.columns[1].values()[0] -%}
    {%- if last_loaded_at is none or last_period is none -%}{{ return(none) }}{%- endif -%}
    {%- set changed_query -%}
        select distinct cast(occurred_at as date) as event_date
        from {{ raw_usage_events() }}
        where _loaded_at > cast('{{ last_loaded_at }}' as {{ dbt.type_timestamp() }})
    {%- endset -%}
    {%- set dates = run_query(changed_query).columns[0].values() | list -%}
    {%- set timedelta = modules.datetime.timedelta -%}
    {%- set last_day = last_period + timedelta(days=6 if grain == 'week' else 0) -%}
    {%- for back in range(var('usage_lookback_days') + 1) -%}
        {%- do dates.append(last_day - timedelta(days=back)) -%}
    {%- endfor -%}
    {%- set periods = [] -%}
    {%- for day in dates if day is not none -%}
        {%- set day = day.date() if day.hour is defined else day -%}
        {%- set start = day - timedelta(days=day.weekday()) if grain == 'week' else day -%}
        {%- if start not in periods -%}{%- do periods.append(start) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(periods | sort) }}
{%- endmacro %}

{#- The predicate limiting events to the periods to recompute (true on a full build).
    `period_expression` is the model's own date or week-start expression for an event;
    `date_column` the event date, given a range bound so scans can skip old data. -#}
{% macro events_refresh_predicate(periods, period_expression, date_column) -%}
    {%- if periods is none -%}
        1 = 1
    {%- else -%}
        {{ date_column }} >= cast('{{ periods[0] }}' as date)
        and {{ period_expression }} in (
            {%- for period in periods %}
                cast('{{ period }}' as date){{ "," if not loop.last }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#- The config of an incremental event model, per engine: delete+insert by period where the
    engine has it (DuckDB, Postgres); on Spark, which has no merge without Delta here,
    insert_overwrite of the period partitions (dynamic partition overwrite).
    on_schema_change append_new_columns: the enforced contract already fixes the columns and
    types; 'fail' would also trip over equivalent types (text vs varchar on Postgres). -#}
{% macro incremental_events_config(period_column) -%}
    {%- set config = {
        'materialized': 'incremental',
        'unique_key': period_column,
        'on_schema_change': 'append_new_columns',
        'meta': {'rebuilt_rows': {'period': period_column}},
        'pre_hook': [{'sql': "{{ unordered_full_insert('before') }}", 'transaction': false}],
        'post_hook': [{'sql': "{{ unordered_full_insert('after') }}", 'transaction': false}],
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

{#- The raw events table, looked up in the graph rather than through source(): tests call
    event_test_dates at run time, and a test may not take a dependency it did not declare. -#}
{% macro raw_usage_events() -%}
    {%- for node in graph.sources.values()
        if node.source_name == 'product' and node.name == 'usage_events' -%}
        {{ return(api.Relation.create(node.database, node.schema, node.identifier)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error('source product.usage_events is not in the graph') }}
{%- endmacro %}

{#- The event dates the staged-event data tests check in this run; none means all of them.

    An incremental `dbt build` tests the events it reads: the dates that
    fct_account_usage_daily is about to recompute (dates that received events loaded since its
    last build, plus the lookback days). In `dbt build` the tests of stg_product__usage_events
    run before that model, so it still holds the previous build's watermark. Everything else
    tests the whole history: --full-refresh (the weekly job), `dbt test`, a first build, and
    any run with the var event_tests_scope set to 'all'. Late events older than the window
    are still covered: their dates are in the list, because the list is made from the loads. -#}
{% macro event_test_dates() -%}
    {%- if test_every_row() -%}{{ return(none) }}{%- endif -%}
    {%- set relation = graph_model_relation('fct_account_usage_daily') -%}
    {%- if relation is none -%}{{ return(none) }}{%- endif -%}
    {{ return(events_to_refresh('usage_date', relation=relation)) }}
{%- endmacro %}

{#- The event deliveries loaded since the last build, as a predicate on the staged deliveries'
    loaded_at: after the newest load fct_account_usage_daily has seen (as event_test_dates, the
    tests run before that model, which still holds the previous build's watermark). A test
    that checks each row on its own needs no more: an earlier row was checked by the build
    that loaded it. The raw table is in load order, so the bound prunes the scan to the new
    loads (a day's 260 K rows at 100 M events, against 2.1 M for the recomputed dates). True
    when the run tests every row (test_every_row) and before that model exists. -#}
{% macro new_event_loads_predicate() -%}
    {%- if test_every_row() -%}{{ return('1 = 1') }}{%- endif -%}
    {%- set relation = graph_model_relation('fct_account_usage_daily') -%}
    {%- if relation is none -%}{{ return('1 = 1') }}{%- endif -%}
    {%- set newest = run_query(
        'select max(last_loaded_at) from ' ~ relation
    ).columns[0].values()[0] -%}
    {%- if newest is none -%}{{ return('1 = 1') }}{%- endif -%}
    {{ return("loaded_at > cast('" ~ newest ~ "' as " ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}

{#- The newest load of raw events (a timestamp; none at parse time, in a unit test, whose graph
    has no sources, and before the raw table exists, as when sqlfluff compiles the project
    against an empty warehouse): the watermark an incremental model that stores no per-row load
    time keeps for the next run. -#}
{% macro newest_event_load() -%}
    {%- if not execute or 'sources' not in graph -%}{{ return(none) }}{%- endif -%}
    {%- set events = raw_usage_events() -%}
    {%- if adapter.get_relation(events.database, events.schema, events.identifier) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query('select max(_loaded_at) from ' ~ events) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}
