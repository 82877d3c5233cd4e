with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

value_realization as (
    select * from {{ ref('int_account_value_realization_snapshots') }}
),

current_value as (
    select * from value_realization
    where is_current
),

final as (
    select
        accounts.account_id,
        cast(coalesce(current_value.goals_total, 0) as {{ dbt.type_bigint() }}) as goals_total,
        cast(coalesce(current_value.goals_achieved, 0) as {{ dbt.type_bigint() }})
            as goals_achieved,
        cast(coalesce(current_value.goals_partial, 0) as {{ dbt.type_bigint() }}) as goals_partial,
        cast(coalesce(current_value.goals_not_started, 0) as {{ dbt.type_bigint() }})
            as goals_not_started,
        cast(coalesce(current_value.goals_regressed, 0) as {{ dbt.type_bigint() }})
            as goals_regressed,
        cast(coalesce(current_value.goals_unknown, 0) as {{ dbt.type_bigint() }}) as goals_unknown,
        cast(coalesce(current_value.active_goals_off_track, 0) as {{ dbt.type_bigint() }})
            as active_goals_off_track,
        cast(current_value.weighted_attainment_pct as {{ type_double() }})
            as weighted_attainment_pct,
        cast(current_value.weighted_pace_pct as {{ type_double() }}) as weighted_pace_pct,
        coalesce(current_value.value_realization_level, 'unknown') as value_realization_level
    from accounts
    left join current_value
        on accounts.account_id = current_value.account_id
)

select * from final
