{#- One row per renewal (closed and pending) and lead time (int_renewal_cutoffs: the model's
    cut-off, is_model_cutoff, and the lead-time cut-offs) with features computed as of its
    cut-off date from what was known by then (docs/metrics.md): events received by the cut-off, surveys
    responded by it, goals created and measurements recorded by it (snapshot spine), intents
    asked by it, the CRM version in force then. Nothing after the cut-off enters a row.

    Usage windows end on the cut-off: the last 7 days (weekly active users, user-days), the
    last 28 days and the 28 before (trend); int_renewal_usage_windows counts them,
    incrementally. The health score at the cut-off applies the
    health_weights seed to the same five components as fct_account_health, on these windows. -#}
{{ config(tags=['as_of']) }}
{%- set cutoff = 'renewals.cutoff_date' %}
{#- A snapshot row (aliased snapshots) of a renewal's account at its cut-off. #}
{%- set at_a_cutoff -%}
    exists (
        select 1 from renewal_cutoffs
        where
            renewal_cutoffs.account_id = snapshots.account_id
            and renewal_cutoffs.cutoff_date = snapshots.snapshot_date
    )
{%- endset %}

with

renewal_cutoffs as (
    select * from {{ ref('int_renewal_cutoffs') }}
),

usage_windows as (
    select * from {{ ref('int_renewal_usage_windows') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

account_versions as (
    select * from {{ ref('stg_crm__account_versions') }}
),

contracts as (
    select * from {{ ref('stg_billing__contracts') }}
),

nps_responses as (
    select * from {{ ref('stg_surveys__nps_responses') }}
),

csat_responses as (
    select * from {{ ref('stg_surveys__csat_responses') }}
),

{# The two snapshot tables hold every account's every snapshot date (4-5 M rows at 100 M
    events); the renewals need one row each. Filtered to the renewals' (account, cut-off) first,
    the joins below hash 60 K renewals instead of millions of snapshots (1.1 s to 0.8 s alone). #}
customer_view as (
    select * from {{ ref('int_account_customer_view_snapshots') }} as snapshots
    where {{ at_a_cutoff }}
),

value_realization as (
    select * from {{ ref('int_account_value_realization_snapshots') }} as snapshots
    where {{ at_a_cutoff }}
),

health_weights as (
    select * from {{ ref('health_weights') }}
),

renewals as (
    select
        *,
        cast(
            {{ dbt.dateadd('day', 1, 'cutoff_date') }} as {{ dbt.type_timestamp() }}
        ) as cutoff_ends_at
    from renewal_cutoffs
),

core_available as (
    select
        renewals.contract_id,
        renewals.lead_days,
        count(features.feature_key) as core_features_available
    from renewals
    inner join features
        on features.is_core and renewals.cutoff_date >= features.released_on
    group by renewals.contract_id, renewals.lead_days
),

surveys as (
    select
        renewals.contract_id,
        renewals.lead_days,
        'nps' as survey,
        nps_responses.nps_category,
        false as is_satisfied
    from renewals
    inner join nps_responses
        on
            renewals.account_id = nps_responses.account_id
            and cast(nps_responses.responded_at as date) <= {{ cutoff }}
            and cast(nps_responses.responded_at as date)
            > cast({{ dbt.dateadd('day', -var('survey_window_days'), cutoff) }} as date)
    union all
    select
        renewals.contract_id,
        renewals.lead_days,
        'csat' as survey,
        null as nps_category,
        csat_responses.is_satisfied
    from renewals
    inner join csat_responses
        on
            renewals.account_id = csat_responses.account_id
            and cast(csat_responses.responded_at as date) <= {{ cutoff }}
            and cast(csat_responses.responded_at as date)
            > cast({{ dbt.dateadd('day', -var('survey_window_days'), cutoff) }} as date)
),

survey_scores as (
    select
        contract_id,
        lead_days,
        sum(case when survey = 'nps' then 1 else 0 end) as nps_responses,
        sum(case when nps_category = 'promoter' then 1 else 0 end) as nps_promoters,
        sum(case when nps_category = 'detractor' then 1 else 0 end) as nps_detractors,
        sum(case when survey = 'csat' then 1 else 0 end) as csat_responses,
        sum(case when is_satisfied then 1 else 0 end) as csat_satisfied
    from surveys
    group by contract_id, lead_days
),

segment_ranked as (
    select
        renewals.contract_id,
        renewals.lead_days,
        account_versions.segment,
        row_number() over (
            partition by renewals.contract_id, renewals.lead_days
            order by account_versions.updated_at desc
        ) as version_rank
    from renewals
    inner join account_versions
        on
            renewals.account_id = account_versions.account_id
            and renewals.cutoff_ends_at > account_versions.updated_at
),

tenure as (
    {#- The account's contracts started and signed by the cut-off: the first start, and the seats
        of those not ended by the cut-off (the expiring contract and any beside it; by their end
        dates, a cancellation is not read here). #}
    select
        renewals.contract_id,
        renewals.lead_days,
        min(contracts.start_date) as first_contract_start_date,
        sum(
            case
                when contracts.end_date is null or renewals.cutoff_date <= contracts.end_date
                    then contracts.seats
            end
        ) as seats_in_force
    from renewals
    inner join contracts
        on
            renewals.account_id = contracts.account_id
            and renewals.cutoff_date >= contracts.start_date
            and renewals.cutoff_ends_at > contracts.signed_at
    group by renewals.contract_id, renewals.lead_days
),

weights_pivoted as (
    {{ health_weights_pivoted('health_weights') }}
),

joined as (
    select
        renewals.contract_id,
        renewals.account_id,
        renewals.lead_days,
        renewals.is_model_cutoff,
        renewals.is_lead_time_cutoff,
        renewals.renewal_date,
        renewals.cutoff_date,
        renewals.renewal_outcome,
        renewals.is_closed,
        renewals.renewed_label,
        renewals.decided_on,
        renewals.expiring_arr,
        {#- the expiring contract's own when none was in force yet on the cut-off #}
        coalesce(tenure.seats_in_force, renewals.seats) as seats,
        segment_ranked.segment,
        {{ dbt.datediff('tenure.first_contract_start_date', cutoff, 'day') }}
            as tenure_days,
        {#- null: not known (daily counts without users, int_renewal_usage_windows) #}
        {%- for column in [
            'active_users_7d', 'user_days_7d', 'user_days_28d', 'user_days_prior_28d',
            'events_28d', 'core_features_28d'
        ] %}
            case
                when usage_windows.contract_id is null then 0 else usage_windows.{{ column }}
            end as {{ column }},
        {%- endfor %}
        core_available.core_features_available,
        coalesce(survey_scores.nps_responses, 0) as nps_responses,
        {{ nps(
            'survey_scores.nps_promoters',
            'survey_scores.nps_detractors',
            'survey_scores.nps_responses'
        ) }} as nps_score,
        coalesce(survey_scores.nps_detractors, 0) as nps_detractors,
        case
            when survey_scores.csat_responses > 0
                then 100.0 * survey_scores.csat_satisfied / survey_scores.csat_responses
        end as csat_pct,
        customer_view.latest_intent_answer,
        customer_view.latest_intent_asked_on,
        customer_view.intent_score,
        customer_view.value_score as goal_pace_pct,
        customer_view.customer_view_score,
        value_realization.weighted_attainment_pct as goal_attainment_pct,
        coalesce(value_realization.value_realization_level, 'unknown') as value_realization_level,
        coalesce(value_realization.goals_total, 0) as goals_total,
        coalesce(value_realization.active_goals_off_track, 0) as active_goals_off_track
    from renewals
    left join usage_windows
        on
            renewals.contract_id = usage_windows.contract_id
            and renewals.lead_days = usage_windows.lead_days
            and renewals.cutoff_date = usage_windows.cutoff_date
    left join core_available
        on
            renewals.contract_id = core_available.contract_id
            and renewals.lead_days = core_available.lead_days
    left join survey_scores
        on
            renewals.contract_id = survey_scores.contract_id
            and renewals.lead_days = survey_scores.lead_days
    left join segment_ranked
        on
            renewals.contract_id = segment_ranked.contract_id
            and renewals.lead_days = segment_ranked.lead_days
            and segment_ranked.version_rank = 1
    left join tenure
        on
            renewals.contract_id = tenure.contract_id
            and renewals.lead_days = tenure.lead_days
    left join customer_view
        on
            renewals.account_id = customer_view.account_id
            and renewals.cutoff_date = customer_view.snapshot_date
    left join value_realization
        on
            renewals.account_id = value_realization.account_id
            and renewals.cutoff_date = value_realization.snapshot_date
),

components as (
    select
        *,
        {{ breadth_score('core_features_28d', 'core_features_available') }} as breadth_score,
        {{ depth_score('active_users_7d', 'seats') }} as depth_score,
        {{ frequency_score('user_days_7d', 'active_users_7d') }} as frequency_score,
        {{ trend_score('user_days_28d', 'user_days_prior_28d', 'tenure_days < 56') }}
            as trend_score,
        {{ sentiment_score('nps_score', 'csat_pct') }} as sentiment_score
    from joined
),

{%- set health_components = health_score_pairs() %}

scored as (
    select
        components.*,
        {{ reweighted_mean(health_components) }} as health_score
    from components
    cross join weights_pivoted
),

final as (
    select
        *,
        {{ as_of_date() }} as as_of_date,
        renewal_date <= cast(
            {{ dbt.dateadd('day', var('renewal_horizon_days'), as_of_date()) }} as date
        ) as is_in_horizon,
        {{ health_band('health_score') }} as health_band,
        case when seats > 0 then 1.0 * user_days_28d / seats end as user_days_per_seat_28d,
        case when seats > 0 then 1.0 * active_users_7d / seats end as seat_utilization,
        case
            when user_days_prior_28d > 0 then 1.0 * user_days_28d / user_days_prior_28d
        end as usage_trend_ratio,
        (case when health_score < {{ var('health_red_below') }} then 1 else 0 end)
        + (
            case
                when
                    latest_intent_answer in ('no', 'not_sure')
                    and latest_intent_asked_on > cast(
                        {{ dbt.dateadd('day', -var('intent_recent_days'), 'cutoff_date') }}
                        as date
                    )
                    then 1
                else 0
            end
        )
        + (case when nps_detractors > 0 then 1 else 0 end)
        + (
            case
                when
                    active_goals_off_track > 0
                    and health_score >= {{ var('vendor_view_high_min') }}
                    then 1
                else 0
            end
        )
        + (
            case
                when goals_total = 0 and tenure_days > {{ var('no_goals_after_days') }} then 1
                else 0
            end
        ) as open_triggers
    from scored
)

select * from final
