{#- The customer's view of its own success per account and snapshot date, 0-100: the
    weighted mean (customer_view_weights seed) of value realization (the goals' weighted pace:
    progress against where they should be by now),
    the latest renewal-intent answer of the last intent_valid_days (yes 100, not_sure 50,
    no 0) and CSAT % of the last survey_window_days. A missing component re-weights the others.
    Only accounts with a contract in force on the snapshot date.
    Incremental like the goal snapshots (macros/incremental.sql). -#}
{{ config(**snapshot_incremental_config('snapshot_date')) }}
{%- set window_start = snapshot_window_start('snapshot_date') %}
{%- set snapshot_date = 'account_snapshots.snapshot_date' %}

with

snapshots as (
    select * from {{ ref('int_snapshot_dates') }}
),

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

value_realization as (
    select * from {{ ref('int_account_value_realization_snapshots') }}
    where {{ in_window('snapshot_date', window_start) }}
),

intents as (
    select * from {{ ref('stg_success__renewal_intents') }}
),

csat_responses as (
    select * from {{ ref('stg_surveys__csat_responses') }}
),

weights as (
    select * from {{ ref('customer_view_weights') }}
),

account_snapshots as (
    {#- The dates every account shares and each account's own dates as two joins (as in
        int_goal_attainment_snapshots); an open-ended contract covers up to open_end_date(), so
        both coverage bounds are plain comparisons a range join can use. #}
    select distinct
        contracts.account_id,
        snapshots.snapshot_date,
        snapshots.week_start,
        snapshots.is_current
    from snapshots
    inner join contracts
        on
            snapshots.snapshot_date >= contracts.start_date
            and snapshots.snapshot_date
            <= coalesce(contracts.coverage_end_date, {{ open_end_date() }})
    where
        snapshots.account_id is null
        and {{ in_window('snapshots.snapshot_date', window_start) }}
    union all
    select distinct
        contracts.account_id,
        snapshots.snapshot_date,
        snapshots.week_start,
        snapshots.is_current
    from snapshots
    inner join contracts
        on
            snapshots.account_id = contracts.account_id
            and snapshots.snapshot_date >= contracts.start_date
            and snapshots.snapshot_date
            <= coalesce(contracts.coverage_end_date, {{ open_end_date() }})
    where {{ in_window('snapshots.snapshot_date', window_start) }}
),

intents_ranked as (
    select
        account_snapshots.account_id,
        account_snapshots.snapshot_date,
        intents.intent_answer,
        intents.asked_on,
        row_number() over (
            partition by account_snapshots.account_id, account_snapshots.snapshot_date
            order by intents.asked_on desc, intents.checkin_id desc
        ) as intent_rank
    from account_snapshots
    inner join intents
        on
            account_snapshots.account_id = intents.account_id
            and account_snapshots.snapshot_date >= intents.asked_on
            and intents.asked_on > cast(
                {{ dbt.dateadd('day', -var('intent_valid_days'), snapshot_date) }}
                as date
            )
),

csat_windowed as (
    select
        account_snapshots.account_id,
        account_snapshots.snapshot_date,
        count(*) as csat_responses,
        sum(case when csat_responses.is_satisfied then 1 else 0 end) as csat_satisfied
    from account_snapshots
    inner join csat_responses
        on
            account_snapshots.account_id = csat_responses.account_id
            and cast(csat_responses.responded_at as date) <= account_snapshots.snapshot_date
            and cast(csat_responses.responded_at as date) > cast(
                {{ dbt.dateadd('day', -var('survey_window_days'), snapshot_date) }}
                as date
            )
    group by account_snapshots.account_id, account_snapshots.snapshot_date
),

weights_pivoted as (
    select
        sum(case when component = 'value_realization' then weight else 0 end) as w_value,
        sum(case when component = 'renewal_intent' then weight else 0 end) as w_intent,
        sum(case when component = 'csat' then weight else 0 end) as w_csat
    from weights
),

components as (
    select
        account_snapshots.account_id,
        account_snapshots.snapshot_date,
        account_snapshots.week_start,
        account_snapshots.is_current,
        value_realization.weighted_pace_pct as value_score,
        latest_intent.intent_answer as latest_intent_answer,
        latest_intent.asked_on as latest_intent_asked_on,
        coalesce(value_realization.value_realization_level, 'unknown') as value_realization_level,
        coalesce(value_realization.goals_total, 0) as goals_total,
        coalesce(value_realization.active_goals_off_track, 0) as active_goals_off_track,
        case latest_intent.intent_answer
            when 'yes' then 100.0
            when 'not_sure' then 50.0
            when 'no' then 0.0
        end as intent_score,
        case
            when csat_windowed.csat_responses > 0
                then cast(
                    100.0 * csat_windowed.csat_satisfied / csat_windowed.csat_responses
                    as {{ type_double() }}
                )
        end as csat_score
    from account_snapshots
    left join value_realization
        on
            account_snapshots.account_id = value_realization.account_id
            and account_snapshots.snapshot_date = value_realization.snapshot_date
    left join intents_ranked as latest_intent
        on
            account_snapshots.account_id = latest_intent.account_id
            and account_snapshots.snapshot_date = latest_intent.snapshot_date
            and latest_intent.intent_rank = 1
    left join csat_windowed
        on
            account_snapshots.account_id = csat_windowed.account_id
            and account_snapshots.snapshot_date = csat_windowed.snapshot_date
),

{%- set view_components = [
    ['components.value_score', 'weights_pivoted.w_value'],
    ['components.intent_score', 'weights_pivoted.w_intent'],
    ['components.csat_score', 'weights_pivoted.w_csat'],
] %}

weighted as (
    select
        components.*,
        {{ reweighted_mean(view_components) }} as customer_view_score
    from components
    cross join weights_pivoted
),

final as (
    select
        account_id,
        snapshot_date,
        week_start,
        is_current,
        value_realization_level,
        goals_total,
        active_goals_off_track,
        value_score,
        latest_intent_answer,
        latest_intent_asked_on,
        intent_score,
        csat_score,
        customer_view_score
    from weighted
)

select * from final
{{ clustered_by('snapshot_date') }}
