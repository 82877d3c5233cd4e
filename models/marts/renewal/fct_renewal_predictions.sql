{#- Renewal probability of each pending renewal in the horizon, as the renewal model scored it
    (source renewal_model.predictions; customer_outcomes.renewal_model). -#}
with

predictions as (
    select * from {{ source('renewal_model', 'predictions') }}
),

final as (
    select
        cast(contract_id as {{ dbt.type_string() }}) as contract_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(renewal_date as date) as renewal_date,
        cast(cutoff_date as date) as cutoff_date,
        cast(expiring_arr as {{ type_double() }}) as expiring_arr,
        cast(renewal_probability as {{ type_double() }}) as renewal_probability,
        cast(risk_band as {{ dbt.type_string() }}) as risk_band,
        cast(arr_at_risk as {{ type_double() }}) as arr_at_risk,
        cast(top_drivers as {{ dbt.type_string() }}) as top_drivers,
        cast(model_status as {{ dbt.type_string() }}) as model_status,
        cast(model_version as {{ dbt.type_string() }}) as model_version,
        cast(scored_at as date) as scored_at
    from predictions
)

select * from final
