{#- The renewal model's settings (project vars) as one row, for the dbt Python models, which
    read tables rather than vars. -#}
select
    cast({{ var('renewal_test_share') }} as {{ type_double() }}) as test_share,
    cast({{ var('renewal_model_seed') }} as integer) as seed,
    cast({{ var('risk_high_below') }} as {{ type_double() }}) as risk_high_below,
    cast({{ var('risk_medium_below') }} as {{ type_double() }}) as risk_medium_below
