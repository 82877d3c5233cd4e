{#- One row per goal known on as_of_date, with the measured progress beside the customer's own
    verdict, and who measured it (kpi_source: manual readings, or the product's own weekly
    measurements of product_metric). measured_outcome maps the measurement onto the customer's
    scale (achieved: ratio >= 1, partially_achieved: 0 < ratio < 1, missed: ratio <= 0) so the
    two can be compared. -#}
{{ config(tags=['as_of']) }}
with

goals as (
    select * from {{ ref('stg_success__customer_goals') }}
),

attainment as (
    select * from {{ ref('int_goal_attainment_snapshots') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

joined as (
    select
        goals.goal_id,
        goals.account_id,
        goals.goal_title,
        goals.outcome_category,
        goals.kpi_name,
        goals.kpi_unit,
        goals.kpi_source,
        goals.product_metric,
        goals.goal_direction,
        goals.goal_weight,
        goals.goal_status,
        goals.baseline_value,
        goals.target_value,
        goals.baseline_date,
        goals.target_date,
        attainment.latest_value,
        attainment.latest_measured_on,
        attainment.measurements_known,
        attainment.progress_ratio,
        attainment.attainment_pct,
        attainment.attainment_status,
        attainment.expected_progress_ratio,
        attainment.is_on_track,
        {{ dbt.datediff('as_of.as_of_date', 'goals.target_date', 'day') }}
            as days_to_target,
        goals.customer_confirmed_outcome,
        case
            when attainment.progress_ratio is null then null
            when attainment.progress_ratio >= 1 then 'achieved'
            when attainment.progress_ratio > 0 then 'partially_achieved'
            else 'missed'
        end as measured_outcome
    from attainment
    inner join goals
        on attainment.goal_id = goals.goal_id
    cross join as_of
    where attainment.is_current
),

final as (
    select
        goal_id,
        account_id,
        goal_title,
        outcome_category,
        kpi_name,
        kpi_unit,
        kpi_source,
        product_metric,
        goal_direction,
        cast(goal_weight as decimal(18, 4)) as goal_weight,
        goal_status,
        cast(baseline_value as decimal(18, 4)) as baseline_value,
        cast(target_value as decimal(18, 4)) as target_value,
        baseline_date,
        target_date,
        cast(latest_value as decimal(18, 4)) as latest_value,
        latest_measured_on,
        cast(measurements_known as {{ dbt.type_bigint() }}) as measurements_known,
        cast(progress_ratio as {{ type_double() }}) as progress_ratio,
        cast(attainment_pct as {{ type_double() }}) as attainment_pct,
        attainment_status,
        cast(expected_progress_ratio as {{ type_double() }}) as expected_progress_ratio,
        is_on_track,
        cast(days_to_target as integer) as days_to_target,
        customer_confirmed_outcome,
        measured_outcome,
        coalesce(
            customer_confirmed_outcome is not null
            and measured_outcome is not null
            and customer_confirmed_outcome <> measured_outcome,
            false
        ) as is_outcome_disputed
    from joined
)

select * from final
