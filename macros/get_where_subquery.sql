{#- dbt's `where` test config, plus one placeholder resolved when the test runs:
    __changed_event_dates__ becomes a filter on event_date to the dates event_test_dates()
    returns (the days this incremental build recomputes), or is dropped when the run tests
    the whole history. The literal dates let DuckDB prune the events scan, as in the
    incremental models themselves. Otherwise this is dbt's default implementation. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__changed_event_dates__' in where -%}
        {%- set dates = event_test_dates() -%}
        {%- set predicate = events_refresh_predicate(dates, 'event_date', 'event_date') -%}
        {%- set where = where | replace('__changed_event_dates__', predicate) -%}
        {%- if dates is none and where | trim == '1 = 1' -%}{%- set where = none -%}{%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
