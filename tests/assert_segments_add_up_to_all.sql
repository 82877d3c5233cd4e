-- No account-month is counted twice or lost: the segments of a month add up to its 'all' row,
-- and the 'all' row matches the account-level ARR movements. A check of
-- fct_customer_metrics_monthly in Dagster (a singular test on two models needs its asset named).
{{ config(meta={'dagster': {'ref': {'name': 'fct_customer_metrics_monthly'}}}) }}
with

metrics as (
    select * from {{ ref('fct_customer_metrics_monthly') }}
),

movements as (
    select * from {{ ref('fct_arr_movements') }}
),

segments_summed as (
    select
        month_start,
        sum(accounts_at_start) as accounts_at_start,
        sum(churned_accounts) as churned_accounts,
        sum(starting_arr) as starting_arr,
        sum(ending_arr) as ending_arr
    from metrics
    where segment <> 'all'
    group by month_start
),

movements_summed as (
    select
        month_start,
        sum(case when starting_arr > 0 then 1 else 0 end) as accounts_at_start,
        sum(starting_arr) as starting_arr,
        sum(ending_arr) as ending_arr
    from movements
    group by month_start
),

compared as (
    select
        metrics.month_start,
        metrics.accounts_at_start,
        segments_summed.accounts_at_start as segments_accounts_at_start,
        movements_summed.accounts_at_start as movement_accounts_at_start
    from metrics
    left join segments_summed
        on metrics.month_start = segments_summed.month_start
    left join movements_summed
        on metrics.month_start = movements_summed.month_start
    where
        metrics.segment = 'all'
        and (
            metrics.accounts_at_start <> coalesce(segments_summed.accounts_at_start, 0)
            or metrics.churned_accounts <> coalesce(segments_summed.churned_accounts, 0)
            or metrics.starting_arr <> coalesce(segments_summed.starting_arr, 0)
            or metrics.ending_arr <> coalesce(segments_summed.ending_arr, 0)
            or metrics.accounts_at_start <> coalesce(movements_summed.accounts_at_start, 0)
            or metrics.starting_arr <> coalesce(movements_summed.starting_arr, 0)
            or metrics.ending_arr <> coalesce(movements_summed.ending_arr, 0)
        )
)

select * from compared
