{#- integers(n_digits): a relation with one column `n`, the integers 0 .. 10^n_digits - 1,
    built from unions and cross joins so it runs on every engine (no generate_series). -#}
{% macro integers(n_digits=3) -%}
    select
        {% for i in range(n_digits) -%}
            d{{ i }}.n * {{ 10 ** i }}{% if not loop.last %} + {% endif %}
        {%- endfor %} as n
    from
        {% for i in range(n_digits) -%}
            (
                {% for d in range(10) -%}
                    select {{ d }} as n{% if not loop.last %} union all {% endif %}
                {%- endfor %}
            ) as d{{ i }}{% if not loop.last %} cross join {% endif %}
        {% endfor %}
{%- endmacro %}

{#- type_double(): an 8-byte float on every engine (dbt's type_float is 4 bytes on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'customer_outcomes')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{#- type_money(): ARR (the raw contract's only amount; goal values are not money) in the
    contract's own decimal, 18 digits with 4 after the point, on every engine
    (test_arr_keeps_the_raw_contracts_precision_until_the_marts). dbt's type_numeric is
    numeric(28,6) on DuckDB and Spark: 16-byte decimals, and casting those to the marts'
    decimal(18,2) cost DuckDB 1.1 s per 1.3 M rows of three columns (0.04 s from
    decimal(18,4)). Nothing is rounded; sums and differences stay exact. -#}
{% macro type_money() -%}
    decimal(18, 4)
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- The end of an open-ended interval (an open contract's coverage, the newest measurement's
    validity): a date later than any real one, so "date <= end" needs no null test and stays
    a plain comparison a range join can use. -#}
{% macro open_end_date() -%}
    cast('9999-12-31' as date)
{%- endmacro %}
