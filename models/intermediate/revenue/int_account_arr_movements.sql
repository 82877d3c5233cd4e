{#- ARR movement of each account and month against the month before (docs/metrics.md).
    Churn and reactivation are classified before expansion / contraction, so every class is
    reachable. new = 0 -> >0 never paid before; reactivation = 0 -> >0 paid before.

    Incremental by month like int_account_arr_monthly, with the same window: a movement
    depends only on its account's monthly ARR up to its month. The SQL windows run over every
    month of int_account_arr_monthly (small: one row per account and month), and only the
    rows of the window are written. -#}
{{ config(**snapshot_incremental_config('month_start', grain='month')) }}
{%- set window_start = snapshot_window_start('month_start', grain='month') %}
with

arr_monthly as (
    select * from {{ ref('int_account_arr_monthly') }}
),

arr_with_history as (
    select
        account_id,
        month_start,
        month_end,
        is_complete_month,
        arr as ending_arr,
        coalesce(
            lag(arr) over (partition by account_id order by month_start), 0
        ) as starting_arr,
        coalesce(
            max(arr) over (
                partition by account_id
                order by month_start
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) > 0 as has_paid_before
    from arr_monthly
),

movements_classified as (
    select
        *,
        case
            when starting_arr = 0 and ending_arr > 0 and not has_paid_before then 'new'
            when starting_arr = 0 and ending_arr > 0 then 'reactivation'
            when starting_arr > 0 and ending_arr = 0 then 'churn'
            when ending_arr > starting_arr then 'expansion'
            when ending_arr < starting_arr then 'contraction'
            when ending_arr > 0 then 'unchanged'
            else 'inactive'
        end as movement_type
    from arr_with_history
),

final as (
    select
        account_id,
        month_start,
        month_end,
        is_complete_month,
        movement_type,
        -- Every amount in arr's own type: engines differ on the type of coalesce(lag(..), 0)
        -- and of case ... else 0 (Postgres drops the scale), the contract does not.
        cast(starting_arr as {{ type_money() }}) as starting_arr,
        cast(ending_arr as {{ type_money() }}) as ending_arr,
        cast(
            case when movement_type = 'new' then ending_arr else 0 end
            as {{ type_money() }}
        ) as new_arr,
        cast(
            case when movement_type = 'expansion' then ending_arr - starting_arr else 0 end
            as {{ type_money() }}
        ) as expansion_arr,
        cast(
            case when movement_type = 'contraction' then starting_arr - ending_arr else 0 end
            as {{ type_money() }}
        ) as contraction_arr,
        cast(
            case when movement_type = 'churn' then starting_arr else 0 end
            as {{ type_money() }}
        ) as churned_arr,
        cast(
            case when movement_type = 'reactivation' then ending_arr else 0 end
            as {{ type_money() }}
        ) as reactivation_arr
    from movements_classified
    where {{ in_window('month_start', window_start) }}
)

select * from final
{{ clustered_by('month_start') }}
