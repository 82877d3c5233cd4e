{#- The weeks in which an intervention trigger first showed on an account (its onset): each
    account's trigger history, and the comparison groups of fct_play_effectiveness. One row per
    account, trigger type and week (week_start, Monday). An onset is a showing with none of the same trigger on the account in
    the play_outcome_weeks weeks before (a second "no" a month after the first is the same
    episode; for feature_use_fell_off, of the same feature: another feature's drop is another
    episode). The triggers of fct_intervention_queue, dated when they appear:

    - intent_negative: the week a renewal check-in answered no or not_sure;
    - detractor_response: the week an NPS detractor responded;
    - feature_use_fell_off: the week after a usage alert's week (alerts need a complete week);
    - red_health: the week after a red week that followed a week not red;
    - goal_off_track_high_usage: the week after the first week with an active goal off track
      and a health score of at least vendor_view_high_min (the week before had none);
    - no_goals_recorded: the week no_goals_after_days after the first contract started, when
      no goal was recorded by then. -#}
{{ config(tags=['as_of']) }}
with

intents as (
    select * from {{ ref('stg_success__renewal_intents') }}
),

nps_responses as (
    select * from {{ ref('stg_surveys__nps_responses') }}
),

alerts as (
    select * from {{ ref('fct_feature_usage_alerts') }}
),

health as (
    select * from {{ ref('fct_account_health') }}
),

value_realization as (
    select * from {{ ref('int_account_value_realization_snapshots') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

health_weeks as (
    select
        health.account_id,
        health.week_start,
        health.health_band,
        health.health_score,
        coalesce(value_realization.active_goals_off_track, 0) as active_goals_off_track
    from health
    left join value_realization
        on
            health.account_id = value_realization.account_id
            and health.week_end = value_realization.snapshot_date
),

states as (
    select
        account_id,
        week_start,
        health_band = 'red' as is_red,
        active_goals_off_track > 0
        and health_score >= {{ var('vendor_view_high_min') }} as is_off_track_high_usage,
        lag(health_band) over (partition by account_id order by week_start) as band_before,
        lag(
            active_goals_off_track > 0
            and health_score >= {{ var('vendor_view_high_min') }}
        ) over (partition by account_id order by week_start) as was_off_track_high_usage
    from health_weeks
),

onsets as (
    select
        intents.account_id,
        'intent_negative' as trigger_type,
        '' as episode_key,
        cast({{ dbt.date_trunc('week', 'intents.asked_on') }} as date) as week_start
    from intents
    where
        intents.intent_answer in ('no', 'not_sure')
        and intents.asked_on <= {{ as_of_date() }}
    union all
    select
        account_id,
        'detractor_response' as trigger_type,
        '' as episode_key,
        cast({{ dbt.date_trunc('week', 'responded_at') }} as date) as week_start
    from nps_responses
    where
        nps_category = 'detractor'
        and cast(responded_at as date) <= {{ as_of_date() }}
    union all
    select
        account_id,
        'feature_use_fell_off' as trigger_type,
        feature_key as episode_key,
        cast({{ dbt.dateadd('day', 7, 'week_start') }} as date) as week_start
    from alerts
    union all
    select
        account_id,
        'red_health' as trigger_type,
        '' as episode_key,
        cast({{ dbt.dateadd('day', 7, 'week_start') }} as date) as week_start
    from states
    where is_red and coalesce(band_before, '') <> 'red'
    union all
    select
        account_id,
        'goal_off_track_high_usage' as trigger_type,
        '' as episode_key,
        cast({{ dbt.dateadd('day', 7, 'week_start') }} as date) as week_start
    from states
    where is_off_track_high_usage and not coalesce(was_off_track_high_usage, false)
    union all
    select
        accounts.account_id,
        'no_goals_recorded' as trigger_type,
        '' as episode_key,
        cast({{ dbt.date_trunc(
            'week',
            dbt.dateadd('day', var('no_goals_after_days') + 1, 'accounts.first_contract_start_date')
        ) }} as date) as week_start
    from accounts
    where not exists (
        select 1 from value_realization
        where
            value_realization.account_id = accounts.account_id
            and value_realization.goals_total > 0
            and value_realization.snapshot_date <= cast({{ dbt.dateadd(
                'day', var('no_goals_after_days'), 'accounts.first_contract_start_date'
            ) }} as date)
    )
),

showings as (
    select distinct
        onsets.account_id,
        onsets.trigger_type,
        onsets.episode_key,
        onsets.week_start
    from onsets
    cross join as_of
    where onsets.week_start <= as_of.as_of_date
),

episodes as (
    select
        *,
        lag(week_start) over (
            partition by account_id, trigger_type, episode_key order by week_start
        ) as previous_week_start
    from showings
),

final as (
    select distinct
        account_id,
        cast(trigger_type as {{ dbt.type_string() }}) as trigger_type,
        week_start
    from episodes
    where
        previous_week_start is null
        or previous_week_start < cast(
            {{ dbt.dateadd('day', -7 * var('play_outcome_weeks'), 'week_start') }} as date
        )
)

select * from final
