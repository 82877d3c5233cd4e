{#- Logo and ARR retention of each start cohort (quarter of the first paid month) by months
    since start. Each account counts at month k only once month k has been observed (up to the
    as-of month), so recent cohorts are not diluted by months that have not happened. -#}
with

arr_monthly as (
    select * from {{ ref('int_account_arr_monthly') }}
),

first_paid as (
    select
        account_id,
        min(month_start) as first_paid_month
    from arr_monthly
    where arr > 0
    group by account_id
),

first_month_arr as (
    select
        first_paid.account_id,
        first_paid.first_paid_month,
        cast({{ dbt.date_trunc('quarter', 'first_paid.first_paid_month') }} as date)
            as cohort_quarter,
        arr_monthly.arr as starting_arr
    from first_paid
    inner join arr_monthly
        on
            first_paid.account_id = arr_monthly.account_id
            and first_paid.first_paid_month = arr_monthly.month_start
),

account_months_since_start as (
    select
        first_month_arr.cohort_quarter,
        first_month_arr.account_id,
        first_month_arr.starting_arr,
        arr_monthly.arr,
        {{ dbt.datediff('first_month_arr.first_paid_month', 'arr_monthly.month_start', 'month') }}
            as months_since_start
    from first_month_arr
    inner join arr_monthly
        on
            first_month_arr.account_id = arr_monthly.account_id
            and first_month_arr.first_paid_month <= arr_monthly.month_start
),

aggregated as (
    select
        cohort_quarter,
        months_since_start,
        count(*) as cohort_accounts,
        sum(case when arr > 0 then 1 else 0 end) as retained_accounts,
        sum(starting_arr) as cohort_starting_arr,
        sum(arr) as retained_arr
    from account_months_since_start
    group by cohort_quarter, months_since_start
),

final as (
    select
        cohort_quarter,
        cast(months_since_start as integer) as months_since_start,
        cast(cohort_accounts as {{ dbt.type_bigint() }}) as cohort_accounts,
        cast(retained_accounts as {{ dbt.type_bigint() }}) as retained_accounts,
        cast(retained_accounts as {{ type_double() }}) / cohort_accounts as logo_retention_rate,
        cast(cohort_starting_arr as decimal(18, 2)) as cohort_starting_arr,
        cast(retained_arr as decimal(18, 2)) as retained_arr,
        case
            when cohort_starting_arr > 0
                then cast(retained_arr as {{ type_double() }}) / cohort_starting_arr
        end as arr_retention_rate
    from aggregated
)

select * from final
