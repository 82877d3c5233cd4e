{#- One row per calendar month from the first contract's month to the as-of month.
    ARR is measured on the month's last day, or on the as-of date for the current month. -#}
{{ config(tags=['as_of']) }}
with

contracts as (
    select * from {{ ref('stg_billing__contracts') }}
),

bounds as (
    select
        cast({{ dbt.date_trunc('month', 'min(start_date)') }} as date) as first_month,
        cast({{ dbt.date_trunc('month', as_of_date()) }} as date) as last_month
    from contracts
),

numbers as (
    {{ integers(3) }}
),

months_generated as (
    select
        cast({{ dbt.dateadd('month', 'numbers.n', 'bounds.first_month') }} as date) as month_start,
        bounds.last_month
    from bounds
    cross join numbers
),

months_bounded as (
    select
        month_start,
        cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end
    from months_generated
    where month_start <= last_month
),

final as (
    select
        month_start,
        month_end,
        case
            when month_end <= {{ as_of_date() }} then month_end
            else {{ as_of_date() }}
        end as arr_measured_on,
        month_end <= {{ as_of_date() }} as is_complete_month
    from months_bounded
)

select * from final
