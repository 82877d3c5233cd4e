{#- One row per open trigger per current customer, ordered by what is at stake:
    priority_score = ARR x urgency x the trigger's severity (playbooks seed), where urgency =
    1 / (1 + days to renewal / 90) (1 at or past the renewal date; 0.25 without a renewal date).
    Triggers: a goal off track while usage is high; feature use fell off (an alert in the last 28
    days); red health; a renewal intent of no / not_sure in the last intent_recent_days; an NPS
    detractor in the last detractor_recent_days; no goals recorded no_goals_after_days after the
    first contract started. -#}
{{ config(tags=['as_of']) }}
with

gaps as (
    select * from {{ ref('fct_success_gaps') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

alerts as (
    select * from {{ ref('fct_feature_usage_alerts') }}
),

nps_responses as (
    select * from {{ ref('stg_surveys__nps_responses') }}
),

playbooks as (
    select * from {{ ref('playbooks') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

goal_off_track as (
    select
        account_id,
        'goal_off_track_high_usage' as trigger_type,
        cast(active_goals_off_track as {{ dbt.type_string() }})
        || ' active goal(s) off track while health is '
        || cast(cast(vendor_view_score as integer) as {{ dbt.type_string() }}) as reason
    from gaps
    where
        active_goals_off_track > 0
        and vendor_view_score >= {{ var('vendor_view_high_min') }}
),

{# The alert an account's reason names: its newest week, the largest drop in it. #}
recent_alerts as (
    select
        alerts.account_id,
        alerts.feature_key,
        alerts.week_start,
        alerts.feature_events,
        alerts.trailing_4w_avg_events,
        row_number() over (
            partition by alerts.account_id
            order by alerts.week_start desc, alerts.drop_ratio desc, alerts.feature_key asc
        ) as alert_rank
    from alerts
    cross join as_of
    where alerts.week_start > cast({{ dbt.dateadd('day', -28, 'as_of.as_of_date') }} as date)
),

alerted_features as (
    select
        account_id,
        count(distinct feature_key) as features_alerted
    from recent_alerts
    group by account_id
),

feature_fell_off as (
    select
        recent_alerts.account_id,
        'feature_use_fell_off' as trigger_type,
        case
            when recent_alerts.feature_events = 0 then 'no use of ' || recent_alerts.feature_key
            else
                'use of ' || recent_alerts.feature_key || ' fell to '
                || cast(recent_alerts.feature_events as {{ dbt.type_string() }})
        end
        || ' in the week of ' || cast(recent_alerts.week_start as {{ dbt.type_string() }})
        || ' (usually '
        || cast(
            cast(round(recent_alerts.trailing_4w_avg_events) as integer)
            as {{ dbt.type_string() }}
        )
        || ' a week)'
        || case
            when alerted_features.features_alerted = 2 then ' and 1 more feature'
            when alerted_features.features_alerted > 2
                then
                    ' and '
                    || cast(alerted_features.features_alerted - 1 as {{ dbt.type_string() }})
                    || ' more features'
            else ''
        end as reason
    from recent_alerts
    inner join alerted_features
        on recent_alerts.account_id = alerted_features.account_id
    where recent_alerts.alert_rank = 1
),

red_health as (
    select
        account_id,
        'red_health' as trigger_type,
        'health score '
        || cast(cast(vendor_view_score as integer) as {{ dbt.type_string() }})
        || ' is red' as reason
    from gaps
    where health_band = 'red'
),

intent_negative as (
    select
        gaps.account_id,
        'intent_negative' as trigger_type,
        'answered "' || gaps.latest_intent_answer || '" to "do you plan to renew?" on '
        || cast(gaps.latest_intent_asked_on as {{ dbt.type_string() }}) as reason
    from gaps
    cross join as_of
    where
        gaps.latest_intent_answer in ('no', 'not_sure')
        and gaps.latest_intent_asked_on > cast(
            {{ dbt.dateadd('day', -var('intent_recent_days'), 'as_of.as_of_date') }} as date
        )
),

detractors as (
    select
        nps_responses.account_id,
        'detractor_response' as trigger_type,
        cast(count(*) as {{ dbt.type_string() }})
        || ' NPS detractor response(s) in the last '
        || cast({{ var('detractor_recent_days') }} as {{ dbt.type_string() }})
        || ' days, lowest score '
        || cast(min(nps_responses.score) as {{ dbt.type_string() }}) as reason
    from nps_responses
    cross join as_of
    where
        nps_responses.nps_category = 'detractor'
        and cast(nps_responses.responded_at as date) <= as_of.as_of_date
        and cast(nps_responses.responded_at as date) > cast(
            {{ dbt.dateadd('day', -var('detractor_recent_days'), 'as_of.as_of_date') }} as date
        )
    group by nps_responses.account_id
),

no_goals as (
    select
        gaps.account_id,
        'no_goals_recorded' as trigger_type,
        'no goals recorded '
        || cast(
            {{ dbt.datediff('accounts.first_contract_start_date', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_string() }}
        )
        || ' days after the first contract started' as reason
    from gaps
    inner join accounts
        on gaps.account_id = accounts.account_id
    cross join as_of
    where
        gaps.goals_total = 0
        and {{ dbt.datediff('accounts.first_contract_start_date', 'as_of.as_of_date', 'day') }}
        > {{ var('no_goals_after_days') }}
),

triggers as (
    select * from goal_off_track
    union all
    select * from feature_fell_off
    union all
    select * from red_health
    union all
    select * from intent_negative
    union all
    select * from detractors
    union all
    select * from no_goals
),

prioritized as (
    select
        triggers.account_id,
        gaps.account_name,
        gaps.segment,
        triggers.trigger_type,
        triggers.reason,
        playbooks.play_name,
        playbooks.recommended_play,
        playbooks.severity,
        gaps.arr,
        gaps.days_to_renewal,
        gaps.next_renewal_date,
        gaps.gap_type,
        {{ renewal_urgency('gaps.days_to_renewal') }} as urgency
    from triggers
    inner join gaps
        on triggers.account_id = gaps.account_id
    inner join playbooks
        on triggers.trigger_type = playbooks.trigger_type
),

final as (
    select
        account_id,
        account_name,
        segment,
        trigger_type,
        reason,
        play_name,
        recommended_play,
        cast(arr as decimal(18, 2)) as arr,
        days_to_renewal,
        next_renewal_date,
        gap_type,
        cast(urgency as {{ type_double() }}) as urgency,
        cast(severity as {{ type_double() }}) as severity,
        cast(arr * urgency * severity as {{ type_double() }}) as priority_score,
        cast(
            row_number() over (order by arr * urgency * severity desc, account_id, trigger_type asc)
            as {{ dbt.type_bigint() }}
        ) as priority_rank
    from prioritized
)

select * from final
