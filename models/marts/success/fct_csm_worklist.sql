{#- This week's worklist: one row per current customer that needs action, in its owner's queue
    (the account's CSM; accounts without one in the queue 'unowned'), cut to the owner's
    capacity (var csm_weekly_capacity).

    An account with an open cs_activity is 'in_progress' with that play (the newest open one),
    whatever its triggers; the others with an open trigger (fct_intervention_queue) are 'new'.
    A trigger is not queued again while a play it prompted closed on the account less than
    play_cooldown_days ago. An account's triggers are folded into one reason, the most severe
    first (there are six trigger types); the recommended play is the most severe trigger's.

    priority_score = ARR x risk x urgency. risk is 1 - the model's renewal probability of the
    account's next pending renewal in the horizon (risk_source 'model'); without one (no
    renewal in the horizon, an open-ended subscription, no model), the share of the renewals
    of the last 365 days that churned (risk_source 'base_rate'; null when none closed). urgency
    is the intervention queue's: 1 / (1 + days to renewal / 90), 1 at or past it, 0.25 without
    a renewal date. Ties go to the more severe trigger.

    Each queue holds its in-progress accounts, then the new ones by priority up to capacity
    (an owner with as many plays open as the capacity gets no new account). -#}
{{ config(tags=['as_of']) }}
{#- The end of the as-of day: activities opened before it are known. #}
{%- set as_of_end = (
    'cast(' ~ dbt.dateadd('day', 1, as_of_date()) ~ ' as ' ~ dbt.type_timestamp() ~ ')'
) %}
with

queue as (
    select * from {{ ref('fct_intervention_queue') }}
),

playbooks as (
    select * from {{ ref('playbooks') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

predictions as (
    select * from {{ ref('fct_renewal_predictions') }}
),

activities as (
    select * from {{ ref('stg_success__cs_activities') }}
),

renewals as (
    select * from {{ ref('fct_renewals') }}
),

known_activities as (
    select *
    from activities
    where opened_at < {{ as_of_end }}
),

open_plays as (
    select
        known_activities.account_id,
        known_activities.play_key,
        known_activities.opened_at,
        row_number() over (
            partition by known_activities.account_id
            order by known_activities.opened_at desc, known_activities.activity_id desc
        ) as play_rank
    from known_activities
    where
        known_activities.closed_at is null
        or known_activities.closed_at >= {{ as_of_end }}
),

cooling_down as (
    select distinct
        known_activities.account_id,
        known_activities.trigger_type
    from known_activities
    where
        known_activities.closed_at < {{ as_of_end }}
        and known_activities.closed_at >= cast(
            {{ dbt.dateadd('day', -var('play_cooldown_days'), as_of_end) }}
            as {{ dbt.type_timestamp() }}
        )
),

open_triggers as (
    select
        queue.account_id,
        queue.trigger_type,
        queue.reason,
        queue.severity,
        playbooks.play_key,
        queue.play_name,
        queue.recommended_play,
        row_number() over (
            partition by queue.account_id
            order by queue.severity desc, queue.trigger_type asc
        ) as trigger_rank
    from queue
    inner join playbooks
        on queue.trigger_type = playbooks.trigger_type
    where not exists (
        select 1 from cooling_down
        where
            cooling_down.account_id = queue.account_id
            and cooling_down.trigger_type = queue.trigger_type
    )
),

folded as (
    select
        account_id,
        count(*) as open_triggers,
        concat_ws(
            '; ',
            max(case when trigger_rank = 1 then reason end),
            max(case when trigger_rank = 2 then reason end),
            max(case when trigger_rank = 3 then reason end),
            max(case when trigger_rank = 4 then reason end),
            max(case when trigger_rank = 5 then reason end),
            max(case when trigger_rank = 6 then reason end)
        ) as reason,
        max(case when trigger_rank = 1 then trigger_type end) as top_trigger_type,
        max(case when trigger_rank = 1 then severity end) as top_severity,
        max(case when trigger_rank = 1 then play_key end) as recommended_play_key,
        max(case when trigger_rank = 1 then play_name end) as recommended_play_name,
        max(case when trigger_rank = 1 then recommended_play end) as recommended_play
    from open_triggers
    group by account_id
),

base_rate as (
    select
        avg(case when renewals.renewal_outcome = 'churned' then 1.0 else 0.0 end)
            as churn_rate
    from renewals
    where
        renewals.renewal_outcome <> 'pending'
        and renewals.renewal_date <= {{ as_of_date() }}
        and renewals.renewal_date > cast({{ dbt.dateadd('day', -365, as_of_date()) }} as date)
),

next_predictions as (
    select
        account_id,
        renewal_probability,
        row_number() over (
            partition by account_id order by renewal_date asc, contract_id asc
        ) as renewal_rank
    from predictions
    where renewal_probability is not null
),

candidates as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.csm_owner_hash as owner_hash,
        accounts.current_arr as arr,
        accounts.days_to_renewal,
        accounts.next_renewal_date,
        case when open_plays.account_id is not null then 'in_progress' else 'new' end
            as status,
        coalesce(folded.open_triggers, 0) as open_triggers,
        coalesce(folded.reason, 'no open trigger') as reason,
        folded.top_trigger_type,
        folded.recommended_play_key,
        folded.recommended_play_name,
        folded.recommended_play,
        open_plays.play_key as play_in_progress,
        open_plays.opened_at as play_opened_at,
        next_predictions.renewal_probability,
        folded.top_severity,
        coalesce(
            1 - next_predictions.renewal_probability,
            (select base_rate.churn_rate from base_rate)
        ) as risk,
        case
            when next_predictions.renewal_probability is not null then 'model'
            when (select base_rate.churn_rate from base_rate) is not null then 'base_rate'
        end as risk_source,
        {{ renewal_urgency('accounts.days_to_renewal') }} as urgency
    from accounts
    left join folded
        on accounts.account_id = folded.account_id
    left join open_plays
        on
            accounts.account_id = open_plays.account_id
            and open_plays.play_rank = 1
    left join next_predictions
        on
            accounts.account_id = next_predictions.account_id
            and next_predictions.renewal_rank = 1
    where
        accounts.current_arr > 0
        and (folded.account_id is not null or open_plays.account_id is not null)
),

ranked as (
    select
        *,
        coalesce(owner_hash, 'unowned') as queue,
        arr * coalesce(risk, 0) * urgency as priority_score,
        sum(case when status = 'in_progress' then 1 else 0 end) over (
            partition by coalesce(owner_hash, 'unowned')
        ) as plays_in_progress,
        row_number() over (
            partition by coalesce(owner_hash, 'unowned'), status
            order by
                arr * coalesce(risk, 0) * urgency desc,
                coalesce(top_severity, 0) desc,
                account_id asc
        ) as status_rank
    from candidates
),

final as (
    select
        queue,
        owner_hash,
        account_id,
        account_name,
        segment,
        status,
        reason,
        cast(open_triggers as {{ dbt.type_bigint() }}) as open_triggers,
        top_trigger_type,
        recommended_play_key,
        recommended_play_name,
        recommended_play,
        play_in_progress,
        play_opened_at,
        cast(arr as decimal(18, 2)) as arr,
        cast(renewal_probability as {{ type_double() }}) as renewal_probability,
        cast(risk as {{ type_double() }}) as risk,
        risk_source,
        cast(urgency as {{ type_double() }}) as urgency,
        days_to_renewal,
        next_renewal_date,
        cast(priority_score as {{ type_double() }}) as priority_score,
        cast(
            case when status = 'in_progress' then 0 else plays_in_progress end + status_rank
            as {{ dbt.type_bigint() }}
        ) as queue_rank
    from ranked
    where
        status = 'in_progress'
        or plays_in_progress + status_rank <= {{ var('csm_weekly_capacity') }}
)

select * from final
