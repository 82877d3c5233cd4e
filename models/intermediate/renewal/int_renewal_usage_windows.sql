{#- Usage in each renewal's windows before its cut-off (docs/metrics.md): events received by the
    cut-off, in the last 7 days (active users, user-days), the last 28 days (user-days, events,
    core features used) and the 28 days before (user-days, for the trend). One row per
    (contract_id, lead_days), every cut-off of int_renewal_cutoffs, zeros when no event.
    Daily counts (stg_product__usage_daily) count as received at the end of their day; a
    window with a daily count not broken down by user has its user-based columns null.

    Incremental, because it is the one renewal feature that reads the event history. A row
    depends only on events of its account dated in its window and received by its cut-off, so
    a daily run recomputes the renewals whose cut-off is on or after the window start
    (`usage_lookback_days` before the earlier of the newest cut-off held and the as-of date:
    pending renewals' cut-off moves with the as-of date) and those not in the table yet (new
    contracts, lead-time cut-offs that have just passed, a contract moved to another
    account). Events are read from 56 days before the window start. Rows are replaced by
    (contract_id, lead_days) (delete+insert); a stale row for an earlier cut-off is harmless,
    since int_renewal_features joins on (contract_id, lead_days, cutoff_date). On Spark (no
    merge here) a table. -#}
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    unique_key=['contract_id', 'lead_days'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{%- set window_start = incremental_window_start(
    'cutoff_date', var('usage_lookback_days'), cap=as_of_value() if is_incremental() else none
) %}
{#- The renewals a daily run recomputes (of int_renewal_cutoffs, aliased renewal_cutoffs). #}
{%- set to_recompute -%}
    renewal_cutoffs.cutoff_date >= cast('{{ window_start }}' as date)
    or not exists (
        select 1 from {{ this }} as existing
        where
            existing.contract_id = renewal_cutoffs.contract_id
            and existing.lead_days = renewal_cutoffs.lead_days
            and existing.account_id = renewal_cutoffs.account_id
            and existing.cutoff_date = renewal_cutoffs.cutoff_date
    )
{%- endset %}
{#- The events a run reads: all on a full build, else from 56 days before the earliest cut-off
    it recomputes (written on occurred_at: DuckDB prunes the scan by a bound on the stored
    timestamp, not by one on the date computed from it in the view). #}
{%- set events_since, days_since = '1 = 1', '1 = 1' %}
{%- if window_start is not none %}
    {%- set first_cutoff = run_query(
        'select min(cutoff_date) from ' ~ ref('int_renewal_cutoffs')
        ~ ' as renewal_cutoffs where ' ~ to_recompute
    ).columns[0].values()[0] or window_start %}
    {%- set since = first_cutoff - modules.datetime.timedelta(days=55) %}
    {%- set events_since = "occurred_at >= cast('" ~ since ~ "' as " ~ dbt.type_timestamp() ~ ')' %}
    {%- set days_since = "event_date >= cast('" ~ since ~ "' as date)" %}
{%- endif %}

with

renewal_cutoffs as (
    select * from {{ ref('int_renewal_cutoffs') }}
),

{# Every delivery: the windows count distinct ids, users, days and features, and "received by
    the cut-off" holds for an event exactly when it holds for its first delivery. A daily count
    has no event id and its event_count. -#}
deliveries as (
    select * from {{ ref('stg_product__usage_event_deliveries') }}
),

daily as (
    select * from {{ ref('stg_product__usage_daily') }}
),

events as (
    {{ usage_deliveries(
        'deliveries',
        'daily',
        ['account_id', 'user_id', 'feature_key', 'event_date', 'received_at'],
        '(is_session_start or is_feature_use) and ' ~ events_since,
        '(is_session_start or is_feature_use) and ' ~ days_since,
    ) }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

renewals as (
    select
        contract_id,
        lead_days,
        account_id,
        cutoff_date,
        cast(
            {{ dbt.dateadd('day', 1, 'cutoff_date') }} as {{ dbt.type_timestamp() }}
        ) as cutoff_ends_at
    from renewal_cutoffs
    {%- if window_start is not none %}
    where {{ to_recompute }}
    {%- endif %}
),

events_known as (
    select
        renewals.contract_id,
        renewals.lead_days,
        events.event_id,
        events.user_id,
        events.feature_key,
        events.event_count,
        {{ dbt.datediff('events.event_date', 'renewals.cutoff_date', 'day') }}
            as days_before_cutoff
    from renewals
    inner join events
        on
            renewals.account_id = events.account_id
            and renewals.cutoff_ends_at > events.received_at
            and renewals.cutoff_date >= events.event_date
            and events.event_date
            > cast({{ dbt.dateadd('day', -56, 'renewals.cutoff_date') }} as date)
),

{# Aggregated in steps (user-days, then per renewal) rather than with count(distinct) over
    concatenated user-day strings: 3x faster at 100 M events. -#}
user_days as (
    select
        contract_id,
        lead_days,
        user_id,
        days_before_cutoff
    from events_known
    group by contract_id, lead_days, user_id, days_before_cutoff
),

user_day_counts as (
    select
        contract_id,
        lead_days,
        sum(case when days_before_cutoff < 7 then 1 else 0 end) as user_days_7d,
        sum(case when days_before_cutoff < 28 then 1 else 0 end) as user_days_28d,
        sum(case when days_before_cutoff >= 28 then 1 else 0 end) as user_days_prior_28d,
        count(distinct case when days_before_cutoff < 7 then user_id end) as active_users_7d,
        sum(case when days_before_cutoff < 7 and user_id is null then 1 else 0 end)
            as unattributed_7d,
        sum(case when days_before_cutoff < 28 and user_id is null then 1 else 0 end)
            as unattributed_28d,
        sum(case when days_before_cutoff >= 28 and user_id is null then 1 else 0 end)
            as unattributed_prior_28d
    from user_days
    group by contract_id, lead_days
),

core_features as (
    select feature_key
    from features
    where is_core
),

recent_use as (
    select
        events_known.contract_id,
        events_known.lead_days,
        count(distinct events_known.event_id)
        + coalesce(
            sum(case when events_known.event_id is null then events_known.event_count end), 0
        ) as events_28d,
        count(distinct core_features.feature_key) as core_features_28d
    from events_known
    left join core_features
        on events_known.feature_key = core_features.feature_key
    where events_known.days_before_cutoff < 28
    group by events_known.contract_id, events_known.lead_days
),

usage_windows as (
    select
        user_day_counts.contract_id,
        user_day_counts.lead_days,
        case
            when user_day_counts.unattributed_7d = 0 then user_day_counts.active_users_7d
        end as active_users_7d,
        case
            when user_day_counts.unattributed_7d = 0 then user_day_counts.user_days_7d
        end as user_days_7d,
        case
            when user_day_counts.unattributed_28d = 0 then user_day_counts.user_days_28d
        end as user_days_28d,
        case
            when user_day_counts.unattributed_prior_28d = 0
                then user_day_counts.user_days_prior_28d
        end as user_days_prior_28d,
        coalesce(recent_use.events_28d, 0) as events_28d,
        coalesce(recent_use.core_features_28d, 0) as core_features_28d
    from user_day_counts
    left join recent_use
        on
            user_day_counts.contract_id = recent_use.contract_id
            and user_day_counts.lead_days = recent_use.lead_days
),

final as (
    select
        renewals.contract_id,
        renewals.lead_days,
        renewals.account_id,
        renewals.cutoff_date,
        {#- no event in the windows: 0; a count not known (daily counts without users): null #}
        {%- for column in [
            'active_users_7d', 'user_days_7d', 'user_days_28d', 'user_days_prior_28d',
            'events_28d', 'core_features_28d'
        ] %}
            cast(
                case
                    when usage_windows.contract_id is null then 0
                    else usage_windows.{{ column }}
                end as {{ dbt.type_bigint() }}
            ) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from renewals
    left join usage_windows
        on
            renewals.contract_id = usage_windows.contract_id
            and renewals.lead_days = usage_windows.lead_days
)

select * from final
