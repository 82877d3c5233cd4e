{#- Which signals predict renewal: each single signal and the full model on the same
    time-based test set of closed renewals (source renewal_model.signal_evaluation). -#}
with

evaluation as (
    select * from {{ source('renewal_model', 'signal_evaluation') }}
),

final as (
    select
        cast(signal as {{ dbt.type_string() }}) as signal,  -- noqa: RF04
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(roc_auc as {{ type_double() }}) as roc_auc,
        cast(brier_score as {{ type_double() }}) as brier_score,
        cast(n_with_signal as {{ dbt.type_bigint() }}) as n_with_signal,
        cast(n_test as {{ dbt.type_bigint() }}) as n_test,
        cast(n_train as {{ dbt.type_bigint() }}) as n_train,
        cast(test_from_date as date) as test_from_date,
        cast(model_version as {{ dbt.type_string() }}) as model_version
    from evaluation
)

select * from final
