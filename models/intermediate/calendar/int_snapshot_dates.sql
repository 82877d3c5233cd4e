{#- The dates "as of" which point-in-time views are computed: the end of every complete week
    (weekly history) and the as-of date itself (the current view). -#}
with

weeks as (
    select * from {{ ref('int_weeks') }}
),

week_ends as (
    select
        week_end as snapshot_date,
        week_start
    from weeks
    where is_complete_week
),

as_of as (
    select
        {{ as_of_date() }} as snapshot_date,
        cast({{ dbt.date_trunc('week', as_of_date()) }} as date) as week_start
),

unioned as (
    select
        snapshot_date,
        week_start
    from week_ends
    union
    select
        snapshot_date,
        week_start
    from as_of
),

final as (
    select
        snapshot_date,
        week_start,
        snapshot_date = {{ as_of_date() }} as is_current
    from unioned
)

select * from final
