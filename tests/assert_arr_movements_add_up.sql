-- Every account-month: starting + new + expansion + reactivation - contraction - churned = ending.
select
    account_id,
    month_start,
    starting_arr,
    ending_arr
from {{ ref('fct_arr_movements') }}
where
    starting_arr + new_arr + expansion_arr + reactivation_arr - contraction_arr - churned_arr
    <> ending_arr
