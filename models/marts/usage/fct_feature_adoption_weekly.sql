{#- The weekly feature adoption for BI: a view of int_feature_adoption_weekly, where the
    incremental aggregation of the events lives (a copy would cost a table's write a day). -#}
{{ config(materialized='view') }}

with

adoption as (
    select * from {{ ref('int_feature_adoption_weekly') }}
)

select
    account_id,
    feature_key,
    feature_module,
    is_core,
    week_start,
    is_complete_week,
    active_users,
    feature_events,
    last_loaded_at
from adoption
