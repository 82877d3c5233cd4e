{#- When the inputs of each account to the snapshot models last changed
    (macros/incremental_snapshots.sql).

    A fingerprint per account of everything account-level those models read: its contracts
    as evaluated as of as_of_date (a renewal turns churned when its grace period passes, and
    moves its coverage end), goals, goal measurements, renewal intents, NPS and CSAT responses
    and its own renewal cut-off snapshot dates; plus one row, key global_inputs_key(), for the
    inputs of every account: the feature catalogue, the customer-view and health weights and the vars
    the snapshot models read. Every column of each input counts, read when the model runs.

    Incremental: a run rewrites only the accounts whose fingerprint differs from the stored
    one, with changed_at = the run's start; an account whose inputs all disappeared keeps a
    row with a null fingerprint. The snapshot models recompute, whatever the date, the accounts
    changed after their own previous build. -#}
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    unique_key='account_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{%- set settings = [] %}
{%- for name in snapshot_input_vars() %}
    {%- do settings.append(name ~ '=' ~ var(name)) %}
{%- endfor %}

with

contracts as (
    select * from {{ ref('int_contracts_renewals_evaluated') }}
),

goals as (
    select * from {{ ref('stg_success__customer_goals') }}
),

measurements as (
    select * from {{ ref('stg_success__goal_measurements') }}
),

intents as (
    select * from {{ ref('stg_success__renewal_intents') }}
),

nps_responses as (
    select * from {{ ref('stg_surveys__nps_responses') }}
),

csat_responses as (
    select * from {{ ref('stg_surveys__csat_responses') }}
),

snapshot_dates as (
    select * from {{ ref('int_snapshot_dates') }}
),

features as (
    select * from {{ ref('stg_product__features') }}
),

customer_view_weights as (
    select * from {{ ref('customer_view_weights') }}
),

health_weights as (
    select * from {{ ref('health_weights') }}
),

digests as (
    select
        contracts.account_id,
        {{ row_digest(
            relation_columns('contracts', ref('int_contracts_renewals_evaluated'))
        ) }} as digest
    from contracts
    union all
    select
        goals.account_id,
        {{ row_digest(
            relation_columns('goals', ref('stg_success__customer_goals'))
        ) }} as digest
    from goals
    union all
    select
        goals.account_id,
        {{ row_digest(
            relation_columns('measurements', ref('stg_success__goal_measurements'))
        ) }} as digest
    from measurements
    inner join goals
        on measurements.goal_id = goals.goal_id
    union all
    select
        intents.account_id,
        {{ row_digest(
            relation_columns('intents', ref('stg_success__renewal_intents'))
        ) }} as digest
    from intents
    union all
    select
        nps_responses.account_id,
        {{ row_digest(
            relation_columns('nps_responses', ref('stg_surveys__nps_responses'))
        ) }} as digest
    from nps_responses
    union all
    select
        csat_responses.account_id,
        {{ row_digest(
            relation_columns('csat_responses', ref('stg_surveys__csat_responses'))
        ) }} as digest
    from csat_responses
    union all
    select
        snapshot_dates.account_id,
        {{ row_digest(
            relation_columns('snapshot_dates', ref('int_snapshot_dates'))
        ) }} as digest
    from snapshot_dates
    where snapshot_dates.account_id is not null
    union all
    select
        '{{ global_inputs_key() }}' as account_id,
        {{ row_digest(
            relation_columns('features', ref('stg_product__features'))
        ) }} as digest
    from features
    union all
    select
        '{{ global_inputs_key() }}' as account_id,
        {{ row_digest(
            relation_columns('customer_view_weights', ref('customer_view_weights'))
        ) }} as digest
    from customer_view_weights
    union all
    select
        '{{ global_inputs_key() }}' as account_id,
        {{ row_digest(
            relation_columns('health_weights', ref('health_weights'))
        ) }} as digest
    from health_weights
    union all
    select
        '{{ global_inputs_key() }}' as account_id,
        {{ row_digest(["'" ~ settings | join('|') ~ "'"]) }} as digest
),

fingerprints as (
    select
        digests.account_id,
        {{ fingerprint_agg('digests.digest') }} as inputs_fingerprint
    from digests
    group by digests.account_id
),

changed as (
    select
        fingerprints.account_id,
        fingerprints.inputs_fingerprint
    from fingerprints
    {%- if is_incremental() %}
    left join {{ this }} as previous
        on fingerprints.account_id = previous.account_id
    where
        previous.inputs_fingerprint is null
        or previous.inputs_fingerprint <> fingerprints.inputs_fingerprint
    union all
    select
        previous.account_id,
        cast(null as {{ dbt.type_string() }}) as inputs_fingerprint
    from {{ this }} as previous
    where
        previous.inputs_fingerprint is not null
        and previous.account_id not in (select fingerprints.account_id from fingerprints)
    {%- endif %}
),

final as (
    select
        account_id,
        inputs_fingerprint,
        {{ run_started_literal() }} as changed_at
    from changed
)

select * from final
