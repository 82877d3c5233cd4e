{#- dbt's `where` test config, plus two placeholders resolved when the test runs:
      - __changed_event_dates__ becomes a filter on event_date to the dates
        event_test_dates() returns (the days this incremental build recomputes);
      - __new_event_loads__ becomes a filter to the event deliveries loaded since the last
        build (new_event_loads_predicate), for the tests that check each row on its own;
      - __rebuilt_rows__ becomes a filter to the rows the tested incremental model rewrote in
        this build (rebuilt_rows_predicate).
    Each is dropped when the run tests the whole history (test_every_row). The literal
    bounds let DuckDB prune the scan, as in the incremental models themselves. Otherwise this
    is dbt's default implementation. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__changed_event_dates__' in where -%}
        {%- set dates = event_test_dates() -%}
        {%- set predicate = events_refresh_predicate(dates, 'event_date', 'event_date') -%}
        {%- set where = where | replace('__changed_event_dates__', predicate) -%}
    {%- endif -%}
    {%- if where and '__new_event_loads__' in where -%}
        {%- set where = where | replace('__new_event_loads__', new_event_loads_predicate()) -%}
    {%- endif -%}
    {%- if where and '__rebuilt_rows__' in where -%}
        {%- set where = where | replace('__rebuilt_rows__', rebuilt_rows_predicate(relation)) -%}
    {%- endif -%}
    {%- if where and where | trim == '1 = 1' -%}{%- set where = none -%}{%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- True when this run's scoped tests check every row instead: --full-refresh (the weekly
    job), `dbt test`, and any run with the var event_tests_scope set to 'all'. -#}
{% macro test_every_row() -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH != 'build'
        or var('event_tests_scope') == 'all' -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if var('event_tests_scope') != 'changed' -%}
        {{ exceptions.raise_compiler_error(
            "var event_tests_scope must be 'changed' or 'all', not '"
            ~ var('event_tests_scope') ~ "'"
        ) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{#- A model of this project as its warehouse relation, looked up in the graph (none when not
    built yet): tests read other models' state at run time, and a test may not `ref` a model
    it does not depend on. -#}
{% macro graph_model_relation(name) -%}
    {%- set node = graph.nodes.get('model.customer_outcomes.' ~ name) -%}
    {%- if node is none -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro %}

{#- The rows an incremental model rewrote in this build, as a predicate on its columns (1 = 1
    for every row). The tested model declares how in its config meta `rebuilt_rows`:
      - {period: column}, an incremental event model (delete+insert by period): the periods
        whose rows carry the newest last_loaded_at, i.e. the periods this build replaced
        (every row of them, old or new, so a duplicate that survived the delete shows too);
      - {date: column, account: column or none}, a snapshot model: the scope this build
        deleted and recomputed, as its post-hook recorded it in the build state (dates on or
        after scope_since, or accounts changed after scope_changed_after).
    A uniqueness or validity problem can only be in rows a build wrote, so an incremental
    build checks those; rows it did not touch were checked by the build that wrote them. -#}
{% macro rebuilt_rows_predicate(relation) -%}
    {%- if test_every_row() -%}{{ return('1 = 1') }}{%- endif -%}
    {%- set ns = namespace(rebuilt=none) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.alias == relation.identifier
        and node.schema == relation.schema -%}
        {%- set ns.rebuilt = node.config.meta.get('rebuilt_rows') -%}
    {%- endfor -%}
    {%- set rebuilt = ns.rebuilt -%}
    {%- if not rebuilt -%}{{ return('1 = 1') }}{%- endif -%}
    {%- if rebuilt.period -%}
        {%- set loads = run_query(
            'select min(last_loaded_at), max(last_loaded_at) from ' ~ relation
        ) -%}
        {%- set oldest, newest = loads.rows[0][0], loads.rows[0][1] -%}
        {%- if newest is none or oldest == newest -%}{{ return('1 = 1') }}{%- endif -%}
        {%- set periods = run_query(
            'select distinct ' ~ rebuilt.period ~ ' from ' ~ relation
            ~ " where last_loaded_at = cast('" ~ newest ~ "' as " ~ dbt.type_timestamp() ~ ')'
            ~ ' order by 1'
        ).columns[0].values() | list -%}
        {{ return(events_refresh_predicate(periods, rebuilt.period, rebuilt.period)) }}
    {%- endif -%}
    {%- set state = run_query(
        'select scope_since, scope_changed_after from ' ~ snapshot_state_relation()
        ~ " where model_name = '" ~ relation.identifier ~ "'"
    ) -%}
    {%- if state.rows | length != 1 or state.rows[0][0] is none -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set scope = {'since': state.rows[0][0], 'built_at': state.rows[0][1]} -%}
    {{ return(snapshot_scope_predicate(
        scope, rebuilt.date, rebuilt.account,
        changes=graph_model_relation('int_account_input_changes'),
    )) }}
{%- endmacro %}
