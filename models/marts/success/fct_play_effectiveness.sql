{#- Does a play work? One row per play, segment ('all' and each segment) and outcome.

    Design (matched difference in differences). A treated unit is a cs_activity with its
    trigger's onset (fct_trigger_onsets: the latest onset of the activity's trigger type
    on the account in the var play_onset_days up to the week it opened): week t0. Its comparison units are
    onsets of the same trigger type on accounts with no play opened from play_outcome_weeks
    before to play_outcome_weeks after their onset, in the same segment, with the same health band in the week before
    the onset and the same renewal window (days to the next renewal cut at var
    play_renewal_windows, default 0-90, 91-180, 181+; or none), with an onset at most play_match_days from the treated one's. Outcomes of a unit
    at week t0:

    - goal_progress: weighted goal attainment (0-1) at the end of week t0 + play_outcome_weeks
      - 1 minus at the end of the week before t0;
    - health: the health score of week t0 + play_outcome_weeks minus that of the week before;
    - renewal: 1 when the account's first renewal within var play_renewal_days after t0
      renewed, 0 when it
      churned (pending renewals, and units without a renewal then, have none).

    Each treated unit's effect is its outcome minus the mean of its matched comparison units';
    effect is their mean over the treated units with an outcome and at least one match, with a
    95 % interval of 1.96 standard errors clustered by account (an account's units are not
    independent): se = sqrt(G / (G - 1) x sum over accounts of (sum of its units' effect -
    effect)^2) / n_matched, G accounts; with one unit per account this is the sample standard
    deviation / sqrt(n_matched). Rounded to 6 decimals.
    status is too_few below var play_min_matched matched units, and the estimate is then null.
    naive_difference: the treated units' mean outcome minus that of every account-week without
    a play within play_outcome_weeks, the confounded reading. -#}
{{ config(tags=['as_of']) }}
{%- set weeks = var('play_outcome_weeks') | int %}
{%- set days_to_renewal = dbt.datediff('health.week_start', 'next_renewals.renewal_date', 'day') %}
{%- set windows = var('play_renewal_windows') %}
{%- set renewal_days = var('play_renewal_days') %}
{%- set onset_days = var('play_onset_days') %}
with

activities as (
    select * from {{ ref('stg_success__cs_activities') }}
),

trigger_onsets as (
    select * from {{ ref('fct_trigger_onsets') }}
),

health as (
    select * from {{ ref('fct_account_health') }}
),

value_realization as (
    select * from {{ ref('int_account_value_realization_snapshots') }}
),

renewals as (
    select * from {{ ref('fct_renewals') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

playbooks as (
    select * from {{ ref('playbooks') }}
),

as_of as (
    select {{ as_of_date() }} as as_of_date
),

known_activities as (
    select
        activities.*,
        cast({{ dbt.date_trunc('week', 'activities.opened_at') }} as date) as opened_week
    from activities
    cross join as_of
    where cast(activities.opened_at as date) <= as_of.as_of_date
),

{# Every account-week with its state before and its outcomes after. #}
next_renewals as (
    select
        health.account_id,
        health.week_start,
        renewals.renewal_date,
        renewals.renewal_outcome,
        row_number() over (
            partition by health.account_id, health.week_start
            order by renewals.renewal_date asc, renewals.contract_id asc
        ) as renewal_rank
    from health
    inner join renewals
        on
            health.account_id = renewals.account_id
            and health.week_start < renewals.renewal_date
),

panel as (
    select
        health.account_id,
        health.week_start,
        before_week.health_band as band_before,
        case
            when next_renewals.renewal_date is null then 'none'
            {%- for bound in windows %}
                when {{ days_to_renewal }} <= {{ bound }}
                    then '{{ 0 if loop.first else windows[loop.index0 - 1] + 1 }}-{{ bound }}'
            {%- endfor %}
            else '{{ windows[-1] + 1 }}+'
        end as renewal_window,
        (goals_after.weighted_attainment_pct - goals_before.weighted_attainment_pct) / 100.0
            as goal_progress,
        after_week.health_score - before_week.health_score as health,
        case
            when
                next_renewals.renewal_date
                > cast({{ dbt.dateadd('day', renewal_days, 'health.week_start') }} as date)
                then null
            when next_renewals.renewal_outcome = 'churned' then 0.0
            when next_renewals.renewal_outcome in ('renewed', 'expanded', 'contracted') then 1.0
        end as renewal
    from health
    left join health as before_week
        on
            health.account_id = before_week.account_id
            and before_week.week_start
            = cast({{ dbt.dateadd('day', -7, 'health.week_start') }} as date)
    left join health as after_week
        on
            health.account_id = after_week.account_id
            and after_week.week_start
            = cast({{ dbt.dateadd('day', 7 * weeks, 'health.week_start') }} as date)
    left join value_realization as goals_before
        on
            health.account_id = goals_before.account_id
            and goals_before.snapshot_date
            = cast({{ dbt.dateadd('day', -1, 'health.week_start') }} as date)
    left join value_realization as goals_after
        on
            health.account_id = goals_after.account_id
            and goals_after.snapshot_date
            = cast({{ dbt.dateadd('day', 7 * weeks - 1, 'health.week_start') }} as date)
    left join next_renewals
        on
            health.account_id = next_renewals.account_id
            and health.week_start = next_renewals.week_start
            and next_renewals.renewal_rank = 1
),

treated_onsets as (
    select
        known_activities.activity_id,
        known_activities.account_id,
        known_activities.play_key,
        known_activities.trigger_type,
        trigger_onsets.week_start,
        row_number() over (
            partition by known_activities.activity_id
            order by trigger_onsets.week_start desc
        ) as onset_rank
    from known_activities
    inner join trigger_onsets
        on
            known_activities.account_id = trigger_onsets.account_id
            and known_activities.trigger_type = trigger_onsets.trigger_type
            and known_activities.opened_week >= trigger_onsets.week_start
            and cast({{ dbt.dateadd('day', -onset_days, 'known_activities.opened_week') }} as date)
            <= trigger_onsets.week_start
),

{# A treated unit with another play opened on the account within the outcome window on either
    side is left out, as a comparison unit with any play there is: both sides alike. #}
treated as (
    select
        panel.*,
        treated_onsets.activity_id,
        treated_onsets.play_key,
        treated_onsets.trigger_type,
        accounts.segment
    from treated_onsets
    inner join accounts
        on treated_onsets.account_id = accounts.account_id
    inner join panel
        on
            treated_onsets.account_id = panel.account_id
            and treated_onsets.week_start = panel.week_start
    where
        treated_onsets.onset_rank = 1
        and not exists (
            select 1 from known_activities as other
            where
                other.account_id = treated_onsets.account_id
                and other.activity_id <> treated_onsets.activity_id
                and other.opened_week >= cast(
                    {{ dbt.dateadd('day', -7 * weeks, 'treated_onsets.week_start') }} as date
                )
                and other.opened_week <= cast(
                    {{ dbt.dateadd('day', 7 * weeks, 'treated_onsets.week_start') }} as date
                )
        )
),

{# Account-weeks with no play opened within the outcome window on either side. #}
untreated_panel as (
    select panel.*
    from panel
    where not exists (
        select 1 from known_activities
        where
            known_activities.account_id = panel.account_id
            and known_activities.opened_week
            >= cast({{ dbt.dateadd('day', -7 * weeks, 'panel.week_start') }} as date)
            and known_activities.opened_week
            <= cast({{ dbt.dateadd('day', 7 * weeks, 'panel.week_start') }} as date)
    )
),

comparison as (
    select
        untreated_panel.*,
        trigger_onsets.trigger_type,
        accounts.segment
    from trigger_onsets
    inner join accounts
        on trigger_onsets.account_id = accounts.account_id
    inner join untreated_panel
        on
            trigger_onsets.account_id = untreated_panel.account_id
            and trigger_onsets.week_start = untreated_panel.week_start
),

matched as (
    select
        treated.activity_id,
        avg(comparison.goal_progress) as comparison_goal_progress,
        avg(comparison.health) as comparison_health,
        avg(comparison.renewal) as comparison_renewal
    from treated
    inner join comparison
        on
            treated.trigger_type = comparison.trigger_type
            and treated.segment = comparison.segment
            and treated.band_before = comparison.band_before
            and treated.renewal_window = comparison.renewal_window
            and comparison.week_start
            >= cast({{ dbt.dateadd('day', -var('play_match_days'), 'treated.week_start') }} as date)
            and comparison.week_start
            <= cast({{ dbt.dateadd('day', var('play_match_days'), 'treated.week_start') }} as date)
    group by treated.activity_id
),

naive_baseline as (
    select
        avg(goal_progress) as goal_progress,
        avg(health) as health,
        avg(renewal) as renewal
    from untreated_panel
),

unit_effects as (
    {%- for outcome in ['goal_progress', 'health', 'renewal'] %}
        select
            treated.play_key,
            treated.segment,
            treated.account_id,
            '{{ outcome }}' as outcome,
            treated.{{ outcome }} as treated_outcome,
            treated.{{ outcome }} - matched.comparison_{{ outcome }} as unit_effect,
            naive_baseline.{{ outcome }} as naive_outcome
        from treated
        left join matched
            on treated.activity_id = matched.activity_id
        cross join naive_baseline
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

by_segment as (
    select
        play_key,
        segment,
        account_id,
        outcome,
        treated_outcome,
        unit_effect,
        naive_outcome
    from unit_effects
    union all
    select
        play_key,
        'all' as segment,
        account_id,
        outcome,
        treated_outcome,
        unit_effect,
        naive_outcome
    from unit_effects
),

means as (
    select
        play_key,
        segment,
        outcome,
        count(*) as n_treated,
        count(unit_effect) as n_matched,
        avg(unit_effect) as effect,
        avg(treated_outcome) - max(naive_outcome) as naive_difference
    from by_segment
    group by play_key, segment, outcome
),

{# Per account, the sum of its units' deviations from the mean effect. #}
account_deviations as (
    select
        by_segment.play_key,
        by_segment.segment,
        by_segment.outcome,
        by_segment.account_id,
        sum(by_segment.unit_effect - means.effect) as deviation
    from by_segment
    inner join means
        on
            by_segment.play_key = means.play_key
            and by_segment.segment = means.segment
            and by_segment.outcome = means.outcome
    where by_segment.unit_effect is not null
    group by by_segment.play_key, by_segment.segment, by_segment.outcome, by_segment.account_id
),

spread as (
    select
        play_key,
        segment,
        outcome,
        count(*) as n_accounts,
        sum(deviation * deviation) as squared_deviations
    from account_deviations
    group by play_key, segment, outcome
),

summarized as (
    select
        means.play_key,
        means.segment,
        means.outcome,
        means.n_treated,
        means.n_matched,
        means.effect,
        means.naive_difference,
        case
            when spread.n_accounts > 1
                then 1.96 * sqrt(
                    spread.squared_deviations * spread.n_accounts / (spread.n_accounts - 1)
                ) / means.n_matched
        end as half_interval
    from means
    left join spread
        on
            means.play_key = spread.play_key
            and means.segment = spread.segment
            and means.outcome = spread.outcome
),

{# Estimates only where enough treated units have matches. #}
estimated as (
    select
        play_key,
        segment,
        outcome,
        n_treated,
        n_matched,
        naive_difference,
        case when n_matched >= {{ var('play_min_matched') }} then effect end as effect,
        case
            when n_matched >= {{ var('play_min_matched') }} then effect - half_interval
        end as ci_low,
        case
            when n_matched >= {{ var('play_min_matched') }} then effect + half_interval
        end as ci_high
    from summarized
),

final as (
    select
        estimated.play_key,
        playbooks.play_name,
        estimated.segment,
        estimated.outcome,
        case when estimated.effect is null then 'too_few' else 'ok' end as status,
        cast(estimated.n_treated as {{ dbt.type_bigint() }}) as n_treated,
        cast(estimated.n_matched as {{ dbt.type_bigint() }}) as n_matched,
        {%- for column in ['effect', 'ci_low', 'ci_high', 'naive_difference'] %}
            cast({{ round_double('estimated.' ~ column, 6) }} as {{ type_double() }})
                as {{ column }},
        {%- endfor %}
        as_of.as_of_date
    from estimated
    left join playbooks
        on estimated.play_key = playbooks.play_key
    cross join as_of
)

select * from final
