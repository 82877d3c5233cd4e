with

movements as (
    select * from {{ ref('int_account_arr_movements') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

final as (
    select
        movements.account_id,
        accounts.segment,
        movements.month_start,
        movements.is_complete_month,
        movements.movement_type,
        cast(movements.starting_arr as decimal(18, 2)) as starting_arr,
        cast(movements.new_arr as decimal(18, 2)) as new_arr,
        cast(movements.expansion_arr as decimal(18, 2)) as expansion_arr,
        cast(movements.contraction_arr as decimal(18, 2)) as contraction_arr,
        cast(movements.churned_arr as decimal(18, 2)) as churned_arr,
        cast(movements.reactivation_arr as decimal(18, 2)) as reactivation_arr,
        cast(movements.ending_arr as decimal(18, 2)) as ending_arr
    from movements
    inner join accounts
        on movements.account_id = accounts.account_id
    where movements.movement_type <> 'inactive'
)

select * from final
