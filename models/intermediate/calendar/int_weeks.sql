{#- One row per ISO week (Monday start) from the first contract's week to the as-of week. -#}
{{ config(tags=['as_of']) }}
with

contracts as (
    select * from {{ ref('stg_billing__contracts') }}
),

bounds as (
    select
        cast({{ dbt.date_trunc('week', 'min(start_date)') }} as date) as first_week,
        cast({{ dbt.date_trunc('week', as_of_date()) }} as date) as last_week
    from contracts
),

numbers as (
    {{ integers(4) }}
),

weeks_generated as (
    select
        cast({{ dbt.dateadd('day', 'numbers.n * 7', 'bounds.first_week') }} as date) as week_start,
        bounds.last_week
    from bounds
    cross join numbers
),

final as (
    select
        week_start,
        cast({{ dbt.dateadd('day', 6, 'week_start') }} as date) as week_end,
        cast({{ dbt.dateadd('day', 6, 'week_start') }} as date) <= {{ as_of_date() }}
            as is_complete_week
    from weeks_generated
    where week_start <= last_week
)

select * from final
