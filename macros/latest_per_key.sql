{#- De-duplicates an append-only raw relation: keeps one row per key, the first by order_by
    (default: the latest load wins). Staging models select their columns from it. -#}
{% macro latest_per_key(relation, key, order_by='_loaded_at desc, _source_file desc') -%}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as row_rank
        from {{ relation }}
    ) as ranked
    where row_rank = 1
{%- endmacro %}
