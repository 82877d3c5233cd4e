{#- The five health components (0-100) per account and complete week; null = not measurable:
    breadth   core features used in the last 4 weeks / core features released by then
    depth     weekly active users / seats (null without seats)
    frequency active days per weekly active user / frequency_target_days (0 without users)
    trend     user-days of the last 4 weeks / the 4 before, capped at 1 (null before 8 weeks)
    Depth, frequency and trend are null where usage came as daily counts without users
    (weekly active users and user-days unknown), and the health score re-weights the rest.
    sentiment mean of (NPS + 100) / 2 and CSAT % over the last survey_window_days (null
              without responses)
    Incremental (macros/incremental.sql): a run recomputes the weeks of the window and reads
    the 7 weeks before them for the trailing windows. -#}
{{ config(**snapshot_incremental_config('week_start', grain='week')) }}
{%- set window_start = snapshot_window_start('week_start', grain='week') %}
with

account_weeks as (
    select * from {{ ref('int_account_weeks_in_force') }}
    where {{ in_window('week_start', window_start, days_before=49) }}
),

weekly_usage as (
    select * from {{ ref('int_usage_events_aggregated_to_account_weeks') }}
    where {{ in_window('week_start', window_start, days_before=49) }}
),

adoption as (
    select * from {{ ref('int_feature_adoption_weekly') }}
    where {{ in_window('week_start', window_start, days_before=49) }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

nps_responses as (
    select * from {{ ref('stg_surveys__nps_responses') }}
),

csat_responses as (
    select * from {{ ref('stg_surveys__csat_responses') }}
),

usage_joined as (
    select
        account_weeks.*,
        {# no usage row: no use that week (0); a row with null users: not known #}
        case
            when weekly_usage.account_id is null then 0 else weekly_usage.weekly_active_users
        end as weekly_active_users,
        case
            when weekly_usage.account_id is null then 0 else weekly_usage.user_active_days
        end as user_active_days
    from account_weeks
    left join weekly_usage
        on
            account_weeks.account_id = weekly_usage.account_id
            and account_weeks.week_start = weekly_usage.week_start
),

{# A window's user-days are null when a week of it has none known. #}
usage_windows as (
    select
        *,
        case
            when count(*) over last_4w = count(user_active_days) over last_4w
                then sum(user_active_days) over last_4w
        end as user_days_last_4w,
        case
            when count(*) over prior_4w = count(user_active_days) over prior_4w
                then sum(user_active_days) over prior_4w
        end as user_days_prior_4w
    from usage_joined
    window
        last_4w as (
            partition by account_id order by week_start
            rows between 3 preceding and current row
        ),
        prior_4w as (
            partition by account_id order by week_start
            rows between 7 preceding and 4 preceding
        )
),

core_used as (
    select
        account_weeks.account_id,
        account_weeks.week_start,
        count(distinct adoption.feature_key) as core_features_used
    from account_weeks
    inner join adoption
        on
            account_weeks.account_id = adoption.account_id
            and adoption.is_core
            and account_weeks.week_start >= adoption.week_start
            and adoption.week_start
            >= cast({{ dbt.dateadd('day', -21, 'account_weeks.week_start') }} as date)
    group by account_weeks.account_id, account_weeks.week_start
),

core_available as (
    select
        account_weeks.account_id,
        account_weeks.week_start,
        count(features.feature_key) as core_features_available
    from account_weeks
    inner join features
        on
            features.is_core
            and account_weeks.week_end >= features.released_on
    group by account_weeks.account_id, account_weeks.week_start
),

survey_responses as (
    select
        account_id,
        cast(responded_at as date) as responded_on,
        case when nps_category = 'promoter' then 1 else 0 end as is_promoter,
        case when nps_category = 'detractor' then 1 else 0 end as is_detractor,
        1 as is_nps,
        0 as is_csat,
        0 as is_satisfied
    from nps_responses
    union all
    select
        account_id,
        cast(responded_at as date) as responded_on,
        0 as is_promoter,
        0 as is_detractor,
        0 as is_nps,
        1 as is_csat,
        case when is_satisfied then 1 else 0 end as is_satisfied
    from csat_responses
),

sentiment as (
    select
        account_weeks.account_id,
        account_weeks.week_start,
        sum(survey_responses.is_nps) as nps_responses,
        sum(survey_responses.is_promoter) as promoters,
        sum(survey_responses.is_detractor) as detractors,
        sum(survey_responses.is_csat) as csat_responses,
        sum(survey_responses.is_satisfied) as csat_satisfied
    from account_weeks
    inner join survey_responses
        on
            account_weeks.account_id = survey_responses.account_id
            and account_weeks.week_end >= survey_responses.responded_on
            and survey_responses.responded_on > cast(
                {{ dbt.dateadd('day', -var('survey_window_days'), 'account_weeks.week_end') }}
                as date
            )
    group by account_weeks.account_id, account_weeks.week_start
),

components as (
    select
        usage_windows.account_id,
        usage_windows.week_start,
        usage_windows.week_end,
        usage_windows.seats,
        usage_windows.arr,
        usage_windows.weekly_active_users,
        usage_windows.user_active_days,
        core_available.core_features_available,
        coalesce(core_used.core_features_used, 0) as core_features_used,
        {#- scores as doubles on every engine (Postgres would keep numerics of any scale) #}
        cast({{ breadth_score(
            'coalesce(core_used.core_features_used, 0)', 'core_available.core_features_available'
        ) }} as {{ type_double() }}) as breadth_score,
        cast(
            {{ depth_score('usage_windows.weekly_active_users', 'usage_windows.seats') }}
            as {{ type_double() }}
        ) as depth_score,
        cast({{ frequency_score(
            'usage_windows.user_active_days', 'usage_windows.weekly_active_users'
        ) }} as {{ type_double() }}) as frequency_score,
        cast({{ trend_score(
            'usage_windows.user_days_last_4w',
            'usage_windows.user_days_prior_4w',
            'usage_windows.week_number < 8'
        ) }} as {{ type_double() }}) as trend_score,
        {{ nps('sentiment.promoters', 'sentiment.detractors', 'sentiment.nps_responses') }}
            as nps_score,
        case
            when sentiment.csat_responses > 0
                then 100.0 * sentiment.csat_satisfied / sentiment.csat_responses
        end as csat_pct
    from usage_windows
    left join core_used
        on
            usage_windows.account_id = core_used.account_id
            and usage_windows.week_start = core_used.week_start
    left join core_available
        on
            usage_windows.account_id = core_available.account_id
            and usage_windows.week_start = core_available.week_start
    left join sentiment
        on
            usage_windows.account_id = sentiment.account_id
            and usage_windows.week_start = sentiment.week_start
    where
        usage_windows.is_in_force
        and {{ in_window('usage_windows.week_start', window_start) }}
),

final as (
    select
        *,
        {{ sentiment_score('nps_score', 'csat_pct') }} as sentiment_score
    from components
)

select * from final
{{ clustered_by('week_start') }}
