{#- Every goal measurement the attainment models read: the readings delivered in
    goal_measurements for manual goals, and the weekly measurements derived from usage for
    product-measured goals (int_product_goal_measurements). A reading delivered for a
    product-measured goal stays in staging but is not read: the product measures that goal. -#}
with

delivered as (
    select * from {{ ref('stg_success__goal_measurements') }}
),

goals as (
    select * from {{ ref('stg_success__customer_goals') }}
),

derived as (
    select * from {{ ref('int_product_goal_measurements') }}
),

final as (
    select
        delivered.measurement_id,
        delivered.goal_id,
        delivered.measured_on,
        delivered.measured_value,
        delivered.measurement_source,
        delivered.recorded_at
    from delivered
    where
        not exists (
            select 1 from goals
            where goals.goal_id = delivered.goal_id and goals.kpi_source = 'product'
        )
    union all
    select
        measurement_id,
        goal_id,
        measured_on,
        measured_value,
        measurement_source,
        recorded_at
    from derived
)

select * from final
