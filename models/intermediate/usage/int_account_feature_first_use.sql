{#- The week of each account's first use of each feature (from int_feature_adoption_weekly),
    which the feature-use alerts need to count the weeks without use from then on.

    Incremental, so a daily run does not group the whole adoption history again (at 100 M
    events: 15 M adoption rows, about 1 s, every run). A first use can only appear or move
    earlier through newly loaded events (raw events are never removed), and any adoption row
    holding one has a last_loaded_at after the newest this table has merged. So a run reads
    only those adoption rows (the scan skips the row groups of older loads) and keeps, per
    account and feature, the earlier of the stored and the new first week (delete+insert by
    key). On Spark (no merge here) a table. A change of the feature catalogue reaches the
    adoption history, and so this table, at the next --full-refresh (weekly). -#}
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    unique_key=['account_id', 'feature_key'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{%- set watermark = none %}
{%- if execute and is_incremental() %}
    {%- set watermark = run_query(
        'select max(last_loaded_at) from ' ~ this
    ).columns[0].values()[0] %}
{%- endif %}

with

adoption as (
    select * from {{ ref('int_feature_adoption_weekly') }}
),

new_use as (
    select
        account_id,
        feature_key,
        min(week_start) as first_week,
        max(last_loaded_at) as last_loaded_at
    from adoption
    {% if watermark is not none -%}
        where last_loaded_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    {% endif -%}
    group by account_id, feature_key
),

{# What earlier runs merged (nothing on a full build). #}
previous as (
    select
        account_id,
        feature_key,
        first_week
    {% if is_incremental() -%}
        from {{ this }}
    {% else -%}
        from new_use
        where 1 = 0
    {% endif -%}
),

merged as (
    select
        new_use.account_id,
        new_use.feature_key,
        new_use.last_loaded_at,
        case
            when previous.first_week < new_use.first_week then previous.first_week
            else new_use.first_week
        end as first_week
    from new_use
    left join previous
        on
            new_use.account_id = previous.account_id
            and new_use.feature_key = previous.feature_key
),

final as (
    select
        account_id,
        feature_key,
        first_week,
        last_loaded_at
    from merged
)

select * from final
