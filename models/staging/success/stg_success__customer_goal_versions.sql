{#- Every version of every goal (a goal is delivered again, with a newer updated_at, when it
    changes) with the dates it was in force: from valid_from (the creation date for its first
    version) until valid_until, the next version's date (null for the latest). A past date sees
    the version in force then. -#}
with

source as (
    select * from {{ source('success', 'customer_goals') }}
),

deduplicated as (
    {{ latest_per_key('source', 'goal_id, updated_at') }}
),

renamed as (
    select
        goal_id,
        account_id,
        title as goal_title,
        outcome_category,
        kpi_name,
        kpi_unit,
        cast(baseline_value as {{ dbt.type_numeric() }}) as baseline_value,
        cast(target_value as {{ dbt.type_numeric() }}) as target_value,
        case when target_value < baseline_value then 'decrease' else 'increase' end
            as goal_direction,
        cast(baseline_date as date) as baseline_date,
        cast(target_date as date) as target_date,
        cast(weight as {{ dbt.type_numeric() }}) as goal_weight,
        status as goal_status,
        coalesce(kpi_source, 'manual') as kpi_source,
        case when kpi_source = 'product' then product_metric end as product_metric,
        case
            when kpi_source = 'product'
                then {{ dbt.split_part('product_metric', "':'", 1) }}
        end as product_metric_key,
        case
            when kpi_source = 'product' and product_metric like '%:%'
                then {{ dbt.split_part('product_metric', "':'", 2) }}
        end as product_feature_key,
        customer_confirmed_outcome,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _loaded_at as loaded_at
    from deduplicated
),

numbered as (
    select
        *,
        cast(lead(updated_at) over (partition by goal_id order by updated_at) as date)
            as valid_until,
        row_number() over (partition by goal_id order by updated_at) as version_number
    from renamed
)

select
    *,
    case
        when version_number = 1 then cast(created_at as date) else cast(updated_at as date)
    end as valid_from
from numbered
