{#- NPS and CSAT by month (of responded_at, UTC) and segment, plus segment = 'all'
    (docs/metrics.md). NPS = 100 * (promoters - detractors) / responses, in floating point so no
    engine divides integers; CSAT % = 100 * (scores of 4 or 5) / responses. -#}
with

nps_responses as (
    select * from {{ ref('stg_surveys__nps_responses') }}
),

csat_responses as (
    select * from {{ ref('stg_surveys__csat_responses') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

responses_unioned as (
    select
        nps_responses.account_id,
        nps_responses.responded_at,
        'nps' as survey,
        nps_responses.score,
        case when nps_responses.nps_category = 'promoter' then 1 else 0 end as is_promoter,
        case when nps_responses.nps_category = 'detractor' then 1 else 0 end as is_detractor,
        0 as is_satisfied
    from nps_responses
    union all
    select
        csat_responses.account_id,
        csat_responses.responded_at,
        'csat' as survey,
        csat_responses.score,
        0 as is_promoter,
        0 as is_detractor,
        case when csat_responses.is_satisfied then 1 else 0 end as is_satisfied
    from csat_responses
),

responses_with_segment as (
    select
        responses_unioned.*,
        cast({{ dbt.date_trunc('month', 'responses_unioned.responded_at') }} as date)
            as month_start,
        accounts.segment
    from responses_unioned
    inner join accounts
        on responses_unioned.account_id = accounts.account_id
),

responses_with_all_segment as (
    select * from responses_with_segment
    union all
    select
        account_id,
        responded_at,
        survey,
        score,
        is_promoter,
        is_detractor,
        is_satisfied,
        month_start,
        'all' as segment
    from responses_with_segment
),

aggregated as (
    select
        month_start,
        segment,
        sum(case when survey = 'nps' then 1 else 0 end) as nps_responses,
        sum(is_promoter) as nps_promoters,
        sum(is_detractor) as nps_detractors,
        sum(case when survey = 'csat' then 1 else 0 end) as csat_responses,
        sum(is_satisfied) as csat_satisfied,
        sum(case when survey = 'csat' then score else 0 end) as csat_score_sum
    from responses_with_all_segment
    group by month_start, segment
),

final as (
    select
        month_start,
        segment,
        cast(nps_responses as {{ dbt.type_bigint() }}) as nps_responses,
        cast(nps_promoters as {{ dbt.type_bigint() }}) as nps_promoters,
        cast(nps_detractors as {{ dbt.type_bigint() }}) as nps_detractors,
        {{ nps('nps_promoters', 'nps_detractors', 'nps_responses') }} as nps,
        cast(csat_responses as {{ dbt.type_bigint() }}) as csat_responses,
        case
            when csat_responses > 0
                then cast(100.0 * csat_satisfied as {{ type_double() }}) / csat_responses
        end as csat_pct,
        case
            when csat_responses > 0
                then cast(csat_score_sum as {{ type_double() }}) / csat_responses
        end as csat_mean
    from aggregated
)

select * from final
