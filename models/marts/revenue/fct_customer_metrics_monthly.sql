{#- The standard customer metrics by month and segment, plus segment = 'all' (docs/metrics.md).
    Ratios are fractions (1.05 = 105 %); NPS is -100..100 and CSAT % 0..100.
    CLTV = ARPA * gross margin / logo churn rate, all monthly; null when nothing churned. -#}
with

movements as (
    select * from {{ ref('int_account_arr_movements') }}
),

arr_monthly as (
    select * from {{ ref('int_account_arr_monthly') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

survey_scores as (
    select * from {{ ref('int_survey_scores_monthly') }}
),

months as (
    select * from {{ ref('int_months') }}
),

segments as (
    select distinct segment from accounts
    union all
    select 'all' as segment
),

months_by_segment as (
    select
        months.month_start,
        months.is_complete_month,
        segments.segment
    from months
    cross join segments
),

movements_with_segment as (
    select
        movements.*,
        accounts.segment
    from movements
    inner join accounts
        on movements.account_id = accounts.account_id
),

movements_with_all_segment as (
    select
        month_start,
        segment,
        starting_arr,
        new_arr,
        expansion_arr,
        contraction_arr,
        churned_arr,
        reactivation_arr,
        ending_arr,
        movement_type
    from movements_with_segment
    union all
    select
        month_start,
        'all' as segment,
        starting_arr,
        new_arr,
        expansion_arr,
        contraction_arr,
        churned_arr,
        reactivation_arr,
        ending_arr,
        movement_type
    from movements_with_segment
),

movements_aggregated as (
    select
        month_start,
        segment,
        sum(case when starting_arr > 0 then 1 else 0 end) as accounts_at_start,
        sum(case when ending_arr > 0 then 1 else 0 end) as accounts_at_end,
        sum(case when movement_type = 'new' then 1 else 0 end) as new_accounts,
        sum(case when movement_type = 'churn' then 1 else 0 end) as churned_accounts,
        sum(case when movement_type = 'reactivation' then 1 else 0 end) as reactivated_accounts,
        sum(starting_arr) as starting_arr,
        sum(new_arr) as new_arr,
        sum(expansion_arr) as expansion_arr,
        sum(contraction_arr) as contraction_arr,
        sum(churned_arr) as churned_arr,
        sum(reactivation_arr) as reactivation_arr,
        sum(ending_arr) as ending_arr
    from movements_with_all_segment
    group by month_start, segment
),

{# Trailing twelve months: the accounts paying 12 months before, and what they pay now. #}
arr_twelve_months_apart as (
    select
        now_month.month_start,
        accounts.segment,
        year_ago.arr as arr_year_ago,
        now_month.arr as arr_now
    from arr_monthly as now_month
    inner join arr_monthly as year_ago
        on
            now_month.account_id = year_ago.account_id
            and year_ago.month_start
            = cast({{ dbt.dateadd('month', -12, 'now_month.month_start') }} as date)
    inner join accounts
        on now_month.account_id = accounts.account_id
    where year_ago.arr > 0
),

ttm_with_all_segment as (
    select
        month_start,
        segment,
        arr_year_ago,
        arr_now
    from arr_twelve_months_apart
    union all
    select
        month_start,
        'all' as segment,
        arr_year_ago,
        arr_now
    from arr_twelve_months_apart
),

ttm_aggregated as (
    select
        month_start,
        segment,
        count(*) as ttm_starting_accounts,
        sum(arr_year_ago) as ttm_starting_arr,
        sum(case when arr_now < arr_year_ago then arr_now else arr_year_ago end)
            as ttm_retained_arr,
        sum(arr_now) as ttm_ending_arr
    from ttm_with_all_segment
    group by month_start, segment
),

metrics_joined as (
    select
        months_by_segment.month_start,
        months_by_segment.segment,
        months_by_segment.is_complete_month,
        ttm_aggregated.ttm_starting_arr,
        ttm_aggregated.ttm_retained_arr,
        ttm_aggregated.ttm_ending_arr,
        survey_scores.nps,
        survey_scores.csat_pct,
        survey_scores.csat_mean,
        coalesce(movements_aggregated.accounts_at_start, 0) as accounts_at_start,
        coalesce(movements_aggregated.accounts_at_end, 0) as accounts_at_end,
        coalesce(movements_aggregated.new_accounts, 0) as new_accounts,
        coalesce(movements_aggregated.churned_accounts, 0) as churned_accounts,
        coalesce(movements_aggregated.reactivated_accounts, 0) as reactivated_accounts,
        coalesce(movements_aggregated.starting_arr, 0) as starting_arr,
        coalesce(movements_aggregated.new_arr, 0) as new_arr,
        coalesce(movements_aggregated.expansion_arr, 0) as expansion_arr,
        coalesce(movements_aggregated.contraction_arr, 0) as contraction_arr,
        coalesce(movements_aggregated.churned_arr, 0) as churned_arr,
        coalesce(movements_aggregated.reactivation_arr, 0) as reactivation_arr,
        coalesce(movements_aggregated.ending_arr, 0) as ending_arr,
        coalesce(survey_scores.nps_responses, 0) as nps_responses,
        coalesce(survey_scores.csat_responses, 0) as csat_responses,
        coalesce(ttm_aggregated.ttm_starting_accounts, 0) as ttm_starting_accounts
    from months_by_segment
    left join movements_aggregated
        on
            months_by_segment.month_start = movements_aggregated.month_start
            and months_by_segment.segment = movements_aggregated.segment
    left join ttm_aggregated
        on
            months_by_segment.month_start = ttm_aggregated.month_start
            and months_by_segment.segment = ttm_aggregated.segment
    left join survey_scores
        on
            months_by_segment.month_start = survey_scores.month_start
            and months_by_segment.segment = survey_scores.segment
),

rates_computed as (
    select
        *,
        case
            when accounts_at_start > 0
                then cast(churned_accounts as {{ type_double() }}) / accounts_at_start
        end as logo_churn_rate,
        case
            when starting_arr > 0
                then
                    cast(starting_arr - contraction_arr - churned_arr as {{ type_double() }})
                    / starting_arr
        end as grr,
        case
            when starting_arr > 0
                then cast(
                    starting_arr + expansion_arr - contraction_arr - churned_arr
                    as {{ type_double() }}
                )
                / starting_arr
        end as nrr,
        case
            when accounts_at_start > 0
                then cast(starting_arr as {{ type_double() }}) / 12 / accounts_at_start
        end as arpa,
        case
            when ttm_starting_arr > 0
                then cast(ttm_retained_arr as {{ type_double() }}) / ttm_starting_arr
        end as grr_ttm,
        case
            when ttm_starting_arr > 0
                then cast(ttm_ending_arr as {{ type_double() }}) / ttm_starting_arr
        end as nrr_ttm
    from metrics_joined
),

final as (
    select
        month_start,
        segment,
        is_complete_month,
        cast(accounts_at_start as {{ dbt.type_bigint() }}) as accounts_at_start,
        cast(accounts_at_end as {{ dbt.type_bigint() }}) as accounts_at_end,
        cast(new_accounts as {{ dbt.type_bigint() }}) as new_accounts,
        cast(churned_accounts as {{ dbt.type_bigint() }}) as churned_accounts,
        cast(reactivated_accounts as {{ dbt.type_bigint() }}) as reactivated_accounts,
        logo_churn_rate,
        1 - logo_churn_rate as logo_retention_rate,
        cast(starting_arr as decimal(18, 2)) as starting_arr,
        cast(new_arr as decimal(18, 2)) as new_arr,
        cast(expansion_arr as decimal(18, 2)) as expansion_arr,
        cast(contraction_arr as decimal(18, 2)) as contraction_arr,
        cast(churned_arr as decimal(18, 2)) as churned_arr,
        cast(reactivation_arr as decimal(18, 2)) as reactivation_arr,
        cast(ending_arr as decimal(18, 2)) as ending_arr,
        grr,
        nrr,
        grr_ttm,
        nrr_ttm,
        cast(ttm_starting_accounts as {{ dbt.type_bigint() }}) as ttm_starting_accounts,
        arpa,
        case
            when logo_churn_rate > 0
                then arpa * {{ var('gross_margin') }} / logo_churn_rate
        end as cltv,
        cast(nps_responses as {{ dbt.type_bigint() }}) as nps_responses,
        nps,
        cast(csat_responses as {{ dbt.type_bigint() }}) as csat_responses,
        csat_pct,
        csat_mean
    from rates_computed
)

select * from final
