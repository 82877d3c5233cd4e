{#- The dates "as of" which point-in-time views are computed: the end of every complete week
    (weekly history) and the as-of date itself (the current view), for every account
    (account_id null); plus each renewal's feature cut-off date for that renewal's account only
    (unless the date is already a global one). -#}
{{ config(tags=['as_of']) }}
with

weeks as (
    select * from {{ ref('int_weeks') }}
),

renewal_cutoffs as (
    select * from {{ ref('int_renewal_cutoffs') }}
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

global_dates as (
    select
        snapshot_date,
        week_start,
        snapshot_date = {{ as_of_date() }} as is_current,
        cast(null as {{ dbt.type_string() }}) as account_id
    from unioned
),

cutoff_dates as (
    select distinct
        renewal_cutoffs.cutoff_date as snapshot_date,
        cast({{ dbt.date_trunc('week', 'renewal_cutoffs.cutoff_date') }} as date) as week_start,
        false as is_current,
        renewal_cutoffs.account_id
    from renewal_cutoffs
    where renewal_cutoffs.cutoff_date not in (select unioned.snapshot_date from unioned)
),

final as (
    select * from global_dates
    union all
    select * from cutoff_dates
)

select * from final
