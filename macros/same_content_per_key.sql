{#- The SQL of the same_content_per_key test (tests/generic/same_content_per_key.sql). -#}
{% macro default__test_same_content_per_key(model, column_name, columns) %}
    select
        {{ column_name }},
        count(*) as contents
    from (
        select distinct
            {{ column_name }},
            {{ columns | join(', ') }}
        from {{ model }}
    ) as contents
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}

{#- DuckDB: over the whole event history (100 M rows) the distinct over six text columns
    needs far more memory than the run has, and under a low memory_limit it failed. First a
    pass over fixed-width hashes (DuckDB's 64-bit hash()): per hash of the key,
    the least and greatest hash of the content; only keys whose two differ are candidates (a
    different content all but surely hashes differently). The candidates are then checked
    exactly as above, so two keys that share a hash do not fail the test. -#}
{% macro duckdb__test_same_content_per_key(model, column_name, columns) %}
    with

    hashed as (
        select
            hash({{ column_name }}) as key_hash,
            min(hash({{ columns | join(', ') }})) as least_content,
            max(hash({{ columns | join(', ') }})) as greatest_content
        from {{ model }}
        group by hash({{ column_name }})
    ),

    candidates as (
        select key_hash
        from hashed
        where least_content <> greatest_content
    )

    {%- set candidate_rows -%}
        (
            select *
            from {{ model }}
            where hash({{ column_name }}) in (select candidates.key_hash from candidates)
        ) as candidate_rows
    {%- endset %}
    {{ default__test_same_content_per_key(candidate_rows, column_name, columns) }}
{% endmacro %}
