{#- Incremental snapshot models: the goal, value-realization, customer-view and health
    snapshots, the feature-use alerts, the weeks in force and the monthly ARR and its movements
    (account or goal x snapshot date, week or month; rebuilt whole they cost as much as the
    event history at scale, or, for the ARR, far more than the day changed).

    Every row of these models depends only on its own account's inputs, on global inputs (the
    feature catalogue, seeds, vars), on the snapshot calendar (as_of_date) and, for the health
    and alert models, on events. So a run recomputes, and replaces:
      - every row dated on or after `since`: the earlier of the previous build's as_of_date and
        this one's (new week ends, the new current snapshot, and the old current one, which is
        deleted unless it is a week end); for models that read events also the earliest event
        date that received events loaded since the previous build, less usage_lookback_days;
        weekly models from the start of that week, monthly ones from the start of that month;
      - every row of an account whose inputs changed since the previous build
        (int_account_input_changes: a fingerprint of the account's contracts as evaluated
        today, goals, measurements, surveys, intents and renewal cut-off dates), whatever its
        date: a corrected goal, a late measurement, a contract that churned when its grace
        period passed, a backdated survey;
      - everything when a global input changed (catalogue, seeds, the vars these models read),
        when the previous build left no state, or on --full-refresh.
    The previous build's as_of_date, newest event load and start time are kept per model in
    intermediate._snapshot_build_state, written by a post-hook in the model's transaction.
    The rows in scope are deleted by a pre-hook and inserted again (append), so rows that no
    longer exist (a past current snapshot) go too. On Spark (no delete without Delta here) the
    models are tables. -#}

{% macro snapshot_state_relation() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=generate_schema_name('intermediate', none) | trim,
        identifier='_snapshot_build_state',
    )) }}
{%- endmacro %}

{#- none = recompute everything; else {'since': date, 'built_at': timestamp}. -#}
{% macro snapshot_scope(grain='day', reads_events=false) -%}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set state_relation = snapshot_state_relation() -%}
    {%- if adapter.get_relation(
        database=state_relation.database,
        schema=state_relation.schema,
        identifier=state_relation.identifier,
    ) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {#- One query: the previous build's state, the global input changes since it, and the date. -#}
    {%- set state = run_query(
        'select state.as_of_date, state.events_loaded_at, state.built_at, (select count(*) from '
        ~ ref('int_account_input_changes') ~ " as changes where changes.account_id = '"
        ~ global_inputs_key() ~ "' and changes.changed_at > state.built_at), "
        ~ as_of_date() ~ ' from ' ~ state_relation ~ " as state where state.model_name = '"
        ~ this.identifier ~ "'"
    ) -%}
    {%- if state.rows | length != 1 -%}{{ return(none) }}{%- endif -%}
    {%- set previous_as_of, events_loaded_at, built_at, global_changes, as_of = state.rows[0] -%}
    {%- if global_changes > 0 -%}{{ return(none) }}{%- endif -%}
    {%- set timedelta = modules.datetime.timedelta -%}
    {%- set since = [previous_as_of, as_of] | min -%}
    {%- if reads_events -%}
        {%- if events_loaded_at is none -%}{{ return(none) }}{%- endif -%}
        {%- set since = since - timedelta(days=var('usage_lookback_days')) -%}
        {%- set first_changed = run_query(
            'select min(cast(occurred_at as date)) from ' ~ raw_usage_events()
            ~ " where _loaded_at > cast('" ~ events_loaded_at ~ "' as "
            ~ dbt.type_timestamp() ~ ")"
        ).columns[0].values()[0] -%}
        {%- if first_changed is not none -%}
            {%- set first_changed = first_changed.date()
                if first_changed.hour is defined else first_changed -%}
            {%- set since = [since, first_changed] | min -%}
        {%- endif -%}
    {%- endif -%}
    {%- if grain == 'week' -%}
        {%- set since = since - timedelta(days=since.weekday()) -%}
    {%- elif grain == 'month' -%}
        {%- set since = since.replace(day=1) -%}
    {%- endif -%}
    {{ return({'since': since, 'built_at': built_at}) }}
{%- endmacro %}

{#- The rows in scope: dated on or after `since` (less days_before, for inputs that trailing
    windows read), or of an account whose inputs changed; true when everything is. -#}
{% macro snapshot_scope_predicate(
    scope, date_expression, account_expression=none, days_before=0, changes=none
) -%}
    {%- if scope is none -%}
        1 = 1
    {%- else -%}
        ({{ date_expression }} >= cast(
            '{{ scope.since - modules.datetime.timedelta(days=days_before) }}' as date
        )
        {%- if account_expression %}
            or {{ changed_accounts(scope, account_expression, changes) }}
        {%- endif %})
    {%- endif -%}
{%- endmacro %}

{#- The same rows as snapshot_scope_predicate, as disjoint parts: rows dated on or after
    `since` (less days_before), and older rows of changed accounts. A model that joins its date
    spine to an account-level table runs the join once per part (union all), so each part's
    filter reaches its own table before the join instead of being tested on every joined pair. -#}
{% macro snapshot_scope_parts(scope, date_expression, account_expression, days_before=0) -%}
    {%- if scope is none -%}{{ return(['1 = 1']) }}{%- endif -%}
    {%- set since = "cast('" ~ (scope.since - modules.datetime.timedelta(days=days_before))
        ~ "' as date)" -%}
    {{ return([
        date_expression ~ ' >= ' ~ since,
        date_expression ~ ' < ' ~ since ~ ' and ' ~ changed_accounts(scope, account_expression),
    ]) }}
{%- endmacro %}

{#- The rows of `relation` in scope, one select per part of snapshot_scope_parts (union all):
    the recent part's date bound prunes the scan of a table clustered by date, where the
    predicate's "date >= ... or account in (...)" reads and tests every row. -#}
{% macro snapshot_scope_rows(relation, scope, date_column, account_column, days_before=0) -%}
    {%- for part in snapshot_scope_parts(scope, date_column, account_column, days_before) %}
    select * from {{ relation }}
    where {{ part }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- snapshot_scope_parts for a join of the snapshot dates (int_snapshot_dates, whose
    account_id is null on the dates every account shares and set on one account's own cut-off
    dates) to an account-level table: each part twice, the shared dates (`where` adds
    `account_id is null`, no account condition: an inequality join) and the account's own
    dates (`account_condition`: one equality to join on). One join with "account_id is null or
    = ..." has no key to hash on and pairs every row with every date. -#}
{% macro snapshot_join_parts(scope, date_expression, account_expression, spine_account='snapshots.account_id') -%}
    {%- set parts = [] -%}
    {%- for part in snapshot_scope_parts(scope, date_expression, account_expression) -%}
        {%- do parts.append({
            'where': part ~ ' and ' ~ spine_account ~ ' is null',
            'account_condition': [],
        }) -%}
        {%- do parts.append({
            'where': part,
            'account_condition': [account_expression ~ ' = ' ~ spine_account],
        }) -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{#- The accounts whose inputs changed after the model's previous build (`changes`: the
    relation of int_account_input_changes, for callers that cannot ref it). -#}
{% macro changed_accounts(scope, account_expression, changes=none) -%}
    {{ account_expression }} in (
        select changes.account_id
        from {{ changes or ref('int_account_input_changes') }} as changes
        where changes.changed_at > cast('{{ scope.built_at }}' as {{ dbt.type_timestamp() }})
    )
{%- endmacro %}

{#- This run's start as a timestamp literal: the build time the state and the changes keep. -#}
{% macro run_started_literal() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Pre-hook: delete the rows the run recomputes (nothing on a first build or full refresh). -#}
{% macro snapshot_scope_delete(date_column, account_column, grain, reads_events) -%}
    {%- if execute and is_incremental() -%}
        {%- set scope = snapshot_scope(grain, reads_events) -%}
        delete from {{ this }}
        where {{ snapshot_scope_predicate(scope, date_column, account_column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: the state table (once, before models run in parallel). -#}
{% macro snapshot_state_create() -%}
    {%- if target.type == 'spark' -%}
        select 1 as no_state_on_spark
    {%- else -%}
        {%- set relation = snapshot_state_relation() -%}
        create schema if not exists {{ adapter.quote(relation.schema) }};
        create table if not exists {{ relation }} (
            model_name {{ dbt.type_string() }},
            as_of_date date,
            events_loaded_at {{ dbt.type_timestamp() }},
            built_at {{ dbt.type_timestamp() }}
        );
        {#- Added later; a state table from an earlier version gains them. -#}
        alter table {{ relation }} add column if not exists scope_since date;
        alter table {{ relation }} add column if not exists
        scope_changed_after {{ dbt.type_timestamp() }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: record this build's as_of_date, newest event load and start time, and the
    scope it recomputed (since, and the changed-accounts bound; null when everything), which
    the model's scoped data tests read (rebuilt_rows_predicate). Recorded before the previous
    row is dropped, since the scope is worked out from it. -#}

{% macro snapshot_state_record(grain, reads_events) -%}
    {%- set scope = snapshot_scope(grain, reads_events) -%}
    {%- set newest_load = newest_event_load() -%}
    {%- set timestamp = dbt.type_timestamp() -%}
    insert into {{ snapshot_state_relation() }} (
        model_name, as_of_date, events_loaded_at, built_at, scope_since, scope_changed_after
    )
    values (
        '{{ this.identifier }}',
        {{ as_of_date() }},
        {{ "cast('" ~ newest_load ~ "' as " ~ timestamp ~ ")" if newest_load is not none else 'null' }},
        {{ run_started_literal() }},
        {{ "cast('" ~ scope.since ~ "' as date)" if scope else 'null' }},
        {{ "cast('" ~ scope.built_at ~ "' as " ~ timestamp ~ ")" if scope else 'null' }}
    )
{%- endmacro %}

{% macro snapshot_state_forget_previous() -%}
    delete from {{ snapshot_state_relation() }}
    where model_name = '{{ this.identifier }}' and built_at <> {{ run_started_literal() }}
{%- endmacro %}

{#- The config of a snapshot model. `date_column`/`account_column` name its snapshot date (or
    week start) and account; account_column none for a model with no account-level inputs
    other than events (the feature-use alerts). -#}
{% macro snapshot_incremental_config(date_column, account_column='account_id', grain='day', reads_events=false) -%}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {%- set delete_call = "snapshot_scope_delete('" ~ date_column ~ "', "
        ~ ("'" ~ account_column ~ "'" if account_column else 'none') ~ ", '" ~ grain ~ "', "
        ~ (reads_events | string | lower) ~ ")" -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
        'pre_hook': [
            '{{ ' ~ delete_call ~ ' }}',
            {'sql': "{{ unordered_full_insert('before') }}", 'transaction': false},
        ],
        'post_hook': [
            "{{ snapshot_state_record('" ~ grain ~ "', " ~ (reads_events | string | lower) ~ ') }}',
            '{{ snapshot_state_forget_previous() }}',
            {'sql': "{{ unordered_full_insert('after') }}", 'transaction': false},
        ],
        'meta': {'rebuilt_rows': {'date': date_column, 'account': account_column}},
    }) }}
{%- endmacro %}

{#- The key of the global inputs' row in int_account_input_changes. -#}
{% macro global_inputs_key() -%}
    {{ return('(global inputs)') }}
{%- endmacro %}

{#- The columns of `relation` as `alias.column` (read from the warehouse when the model
    runs, so a column added later counts too; none at parse time). -#}
{% macro relation_columns(alias, relation) -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.append(alias ~ '.' ~ adapter.quote(column.name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns or ["''"]) }}
{%- endmacro %}

{#- A digest of a row's values (a list of expressions), and the fingerprint of a group of
    digests, independent of row order. DuckDB: its 64-bit hash() of the values, summed as a
    128-bit integer (several times faster than md5 over text). Elsewhere: md5 of the values as
    text, and md5 of the sorted digests. -#}
{% macro row_digest(expressions) -%}
    {{ return(adapter.dispatch('row_digest', 'customer_outcomes')(expressions)) }}
{%- endmacro %}

{% macro default__row_digest(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append(
            'coalesce(cast(' ~ expression ~ ' as ' ~ dbt.type_string() ~ "), '(null)')"
        ) -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro duckdb__row_digest(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro fingerprint_agg(digest) -%}
    {{ return(adapter.dispatch('fingerprint_agg', 'customer_outcomes')(digest)) }}
{%- endmacro %}

{% macro default__fingerprint_agg(digest) -%}
    {{ dbt.hash('string_agg(' ~ digest ~ ", ',' order by " ~ digest ~ ')') }}
{%- endmacro %}

{% macro duckdb__fingerprint_agg(digest) -%}
    cast(sum(cast({{ digest }} as hugeint)) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__fingerprint_agg(digest) -%}
    {{ dbt.hash("concat_ws(',', array_sort(collect_list(" ~ digest ~ ')))') }}
{%- endmacro %}

{#- The vars the snapshot models read (directly or through macros): a change to one of them
    recomputes every row (the global row of int_account_input_changes). A test checks that
    every var those models and their macros read is listed. -#}
{% macro snapshot_input_vars() -%}
    {{ return([
        'goal_on_track_tolerance', 'goal_pace_min_expected',
        'value_full_min', 'value_none_below',
        'intent_valid_days', 'survey_window_days',
        'feature_drop_threshold', 'feature_alert_min_weekly_events',
        'frequency_target_days', 'health_green_min', 'health_red_below',
        'grace_period_days', 'renewal_cutoff_days', 'renewal_horizon_days',
        'customer_view_low_below', 'vendor_view_high_min', 'vendor_view_low_below',
    ]) }}
{%- endmacro %}
