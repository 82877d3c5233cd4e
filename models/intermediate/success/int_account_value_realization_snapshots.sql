{#- Value realized per account and snapshot: the weight-averaged attainment of its measured
    goals (abandoned goals left out; the weighted sums are exact decimals, so parallel
    aggregation cannot change their last bits between runs), and the weight-averaged pace (progress against where the
    goals should be by now), which the customer view uses. Level: unknown when no goal has a measurement (never
    scored as 0), full >= value_full_min, none < value_none_below, else partial.
    Incremental like the goal snapshots (macros/incremental.sql). -#}
{{ config(**snapshot_incremental_config('snapshot_date')) }}
{%- set window_start = snapshot_window_start('snapshot_date') %}
with

goal_snapshots as (
    select * from {{ ref('int_goal_attainment_snapshots') }}
    where {{ in_window('snapshot_date', window_start) }}
),

aggregated as (
    select
        account_id,
        snapshot_date,
        is_current,
        count(*) as goals_total,
        sum(case when attainment_status = 'achieved' then 1 else 0 end) as goals_achieved,
        sum(case when attainment_status = 'partial' then 1 else 0 end) as goals_partial,
        sum(case when attainment_status = 'not_started' then 1 else 0 end) as goals_not_started,
        sum(case when attainment_status = 'regressed' then 1 else 0 end) as goals_regressed,
        sum(case when attainment_status = 'unknown' then 1 else 0 end) as goals_unknown,
        sum(case when is_on_track = false and goal_status = 'active' then 1 else 0 end)
            as active_goals_off_track,
        sum(
            case
                when attainment_status <> 'unknown' and goal_status <> 'abandoned'
                    then cast(goal_weight * attainment_pct as decimal(38, 12))
            end
        ) as weighted_attainment_sum,
        sum(
            case
                when attainment_status <> 'unknown' and goal_status <> 'abandoned'
                    then goal_weight
            end
        ) as measured_weight,
        sum(
            case
                when attainment_status <> 'unknown' and goal_status <> 'abandoned'
                    then cast(goal_weight * pace_pct as decimal(38, 12))
            end
        ) as weighted_pace_sum
    from goal_snapshots
    group by account_id, snapshot_date, is_current
),

final as (
    select
        account_id,
        snapshot_date,
        is_current,
        goals_total,
        goals_achieved,
        goals_partial,
        goals_not_started,
        goals_regressed,
        goals_unknown,
        active_goals_off_track,
        cast(weighted_attainment_sum as {{ type_double() }})
        / cast(measured_weight as {{ type_double() }})
            as weighted_attainment_pct,
        cast(weighted_pace_sum as {{ type_double() }})
        / cast(measured_weight as {{ type_double() }})
            as weighted_pace_pct,
        case
            when measured_weight is null or measured_weight = 0 then 'unknown'
            when weighted_attainment_sum / measured_weight >= {{ var('value_full_min') }}
                then 'full'
            when weighted_attainment_sum / measured_weight < {{ var('value_none_below') }}
                then 'none'
            else 'partial'
        end as value_realization_level
    from aggregated
)

select * from final
{{ clustered_by('snapshot_date') }}
