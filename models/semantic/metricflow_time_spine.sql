{#- MetricFlow's time spine: one row per day from 2010-01-01, 10,000 days (to 2037-05-18).
    Built from the integers() macro and dbt's cross-database dateadd, so it runs on every
    engine (no generate_series or range). -#}
with

numbers as (
    {{ integers(4) }}
),

final as (
    select
        cast(
            {{ dbt.dateadd('day', 'numbers.n', "cast('2010-01-01' as date)") }} as date
        ) as date_day
    from numbers
)

select * from final
