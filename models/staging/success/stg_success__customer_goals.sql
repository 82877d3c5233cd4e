{#- The customers' own goals, the latest version of each. -#}
select
    goal_id,
    account_id,
    goal_title,
    outcome_category,
    kpi_name,
    kpi_unit,
    baseline_value,
    target_value,
    goal_direction,
    baseline_date,
    target_date,
    goal_weight,
    goal_status,
    kpi_source,
    product_metric,
    product_metric_key,
    product_feature_key,
    customer_confirmed_outcome,
    created_at,
    updated_at,
    loaded_at
from {{ ref('stg_success__customer_goal_versions') }}
where valid_until is null
