{#- "Feature use fell off": a row when an account's weekly events on a feature fall below
    (1 - feature_drop_threshold) x its trailing 4-week average, for complete weeks and only when
    that average is at least feature_alert_min_weekly_events (noise guard). Weeks without use
    count as 0 from the account's first use of the feature on.
    Incremental (macros/incremental.sql): a run recomputes the weeks of the window, reading
    the 4 weeks before them for the average. The first use comes from
    int_account_feature_first_use (itself incremental), so only the adoption weeks the run
    reads are scanned. -#}
{{ config(**snapshot_incremental_config('week_start', grain='week')) }}
{%- set window_start = snapshot_window_start('week_start', grain='week') %}
with

adoption as (
    select * from {{ ref('int_feature_adoption_weekly') }}
),

weeks as (
    select * from {{ ref('int_weeks') }}
),

first_use as (
    select * from {{ ref('int_account_feature_first_use') }}
),

{# The weeks feature_weeks holds, so the join below reads no older adoption rows. #}
adoption_read as (
    select *
    from adoption
    where {{ in_window('week_start', window_start, days_before=28) }}
),

feature_weeks as (
    select
        first_use.account_id,
        first_use.feature_key,
        weeks.week_start
    from first_use
    inner join weeks
        on first_use.first_week <= weeks.week_start
    where
        weeks.is_complete_week
        and {{ in_window('weeks.week_start', window_start, days_before=28) }}
),

weekly_events as (
    select
        feature_weeks.account_id,
        feature_weeks.feature_key,
        feature_weeks.week_start,
        coalesce(adoption.feature_events, 0) as feature_events
    from feature_weeks
    left join adoption_read as adoption
        on
            feature_weeks.account_id = adoption.account_id
            and feature_weeks.feature_key = adoption.feature_key
            and feature_weeks.week_start = adoption.week_start
),

trailing_averages as (
    select
        *,
        avg(feature_events) over (
            partition by account_id, feature_key
            order by week_start
            rows between 4 preceding and 1 preceding
        ) as trailing_4w_avg_events,
        count(*) over (
            partition by account_id, feature_key
            order by week_start
            rows between 4 preceding and 1 preceding
        ) as trailing_weeks
    from weekly_events
),

final as (
    select
        account_id,
        feature_key,
        week_start,
        cast(feature_events as {{ dbt.type_bigint() }}) as feature_events,
        cast(trailing_4w_avg_events as {{ type_double() }}) as trailing_4w_avg_events,
        cast(1 - feature_events / trailing_4w_avg_events as {{ type_double() }}) as drop_ratio
    from trailing_averages
    where
        {{ in_window('week_start', window_start) }}
        and trailing_weeks = 4
        and trailing_4w_avg_events >= {{ var('feature_alert_min_weekly_events') }}
        and feature_events < (1 - {{ var('feature_drop_threshold') }}) * trailing_4w_avg_events
)

select * from final
{{ clustered_by('week_start') }}
