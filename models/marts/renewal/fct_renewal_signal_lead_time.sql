{#- How early each signal warns: each single signal at each lead time before the renewal date,
    on the closed renewals and split of fct_renewal_signal_evaluation (source
    renewal_model.signal_lead_time). -#}
with

lead_time as (
    select * from {{ source('renewal_model', 'signal_lead_time') }}
),

final as (
    select
        cast(signal as {{ dbt.type_string() }}) as signal,  -- noqa: RF04
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(lead_days as integer) as lead_days,
        {{ dbt.concat(['signal', "':'", 'cast(lead_days as ' ~ dbt.type_string() ~ ')']) }}
            as signal_lead_id,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(roc_auc as {{ type_double() }}) as roc_auc,
        cast(brier_score as {{ type_double() }}) as brier_score,
        cast(n_with_signal as {{ dbt.type_bigint() }}) as n_with_signal,
        cast(n_test as {{ dbt.type_bigint() }}) as n_test,
        cast(n_train as {{ dbt.type_bigint() }}) as n_train,
        cast(test_from_date as date) as test_from_date,
        cast(model_version as {{ dbt.type_string() }}) as model_version
    from lead_time
)

select * from final
