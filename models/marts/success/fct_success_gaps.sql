{#- The success gap now, one row per current customer (ARR in force on as_of_date): the
    vendor's view (the latest complete week's health) against the customer's own view (goals,
    intent, CSAT as of as_of_date), with ARR and days to renewal to act on. -#}
with

accounts as (
    select * from {{ ref('dim_accounts') }}
),

health as (
    select * from {{ ref('fct_account_health') }}
),

customer_view as (
    select * from {{ ref('int_account_customer_view_snapshots') }}
),

latest_health as (
    select
        *,
        row_number() over (partition by account_id order by week_start desc) as recency_rank
    from health
),

joined as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.current_arr as arr,
        accounts.next_renewal_date,
        accounts.days_to_renewal,
        accounts.lifecycle_stage,
        latest_health.week_start as health_week_start,
        latest_health.health_score as vendor_view_score,
        latest_health.health_band,
        customer_view.customer_view_score,
        customer_view.value_score,
        customer_view.intent_score,
        customer_view.csat_score,
        customer_view.value_realization_level,
        customer_view.goals_total,
        customer_view.active_goals_off_track,
        customer_view.latest_intent_answer,
        customer_view.latest_intent_asked_on
    from accounts
    inner join customer_view
        on
            accounts.account_id = customer_view.account_id
            and customer_view.is_current
    left join latest_health
        on
            accounts.account_id = latest_health.account_id
            and latest_health.recency_rank = 1
    where accounts.current_arr > 0
),

final as (
    select
        account_id,
        account_name,
        segment,
        cast(arr as decimal(18, 2)) as arr,
        next_renewal_date,
        days_to_renewal,
        lifecycle_stage,
        health_week_start,
        cast(vendor_view_score as {{ type_double() }}) as vendor_view_score,
        health_band,
        cast(customer_view_score as {{ type_double() }}) as customer_view_score,
        cast(value_score as {{ type_double() }}) as value_score,
        cast(intent_score as {{ type_double() }}) as intent_score,
        cast(csat_score as {{ type_double() }}) as csat_score,
        cast(vendor_view_score - customer_view_score as {{ type_double() }}) as gap_score,
        {{ gap_type('vendor_view_score', 'customer_view_score', 'value_realization_level') }}
            as gap_type,
        value_realization_level,
        cast(goals_total as {{ dbt.type_bigint() }}) as goals_total,
        cast(active_goals_off_track as {{ dbt.type_bigint() }}) as active_goals_off_track,
        latest_intent_answer,
        latest_intent_asked_on
    from joined
)

select * from final
