{#- The date everything "current" is computed at (DOMAIN.md §2): the `as_of_date` var when
    set (replays, deterministic tests), else today. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}
