{#- Calibration of the full model on the test set, per decile of predicted probability
    (source renewal_model.calibration). -#}
with

calibration as (
    select * from {{ source('renewal_model', 'calibration') }}
),

final as (
    select
        cast(decile as {{ dbt.type_bigint() }}) as decile,
        cast(n as {{ dbt.type_bigint() }}) as n,
        cast(mean_predicted as {{ type_double() }}) as mean_predicted,
        cast(observed_rate as {{ type_double() }}) as observed_rate,
        cast(model_version as {{ dbt.type_string() }}) as model_version
    from calibration
)

select * from final
