{#- The renewal model's settings (project vars) as one row, for the dbt Python models, which
    read tables rather than vars.

    training_date: the model trains on the closed renewals whose outcome window (renewal date
    + grace_period_days) closed on or before it, and scores the pending ones every run. renewal_training_cadence 'weekly' (the
    default) sets it to the Monday of as_of_date's week, so the training set, and the stored
    training (renewal_model), stay the same all week and a daily run only scores; 'daily' sets
    it to as_of_date. Renewals decided since are neither trained on nor scored. -#}
{{ config(tags=['as_of']) }}
{%- set cadence = var('renewal_training_cadence') %}
{%- if cadence not in ('daily', 'weekly') %}
    {{ exceptions.raise_compiler_error(
        "var renewal_training_cadence must be 'daily' or 'weekly', not '" ~ cadence ~ "'"
    ) }}
{%- endif %}
{%- set training_date = (
    'cast(' ~ dbt.date_trunc('week', as_of_date()) ~ ' as date)' if cadence == 'weekly'
    else as_of_date()
) %}
select
    cast({{ var('renewal_test_share') }} as {{ type_double() }}) as test_share,
    cast({{ var('renewal_model_seed') }} as integer) as seed,
    cast({{ var('risk_high_below') }} as {{ type_double() }}) as risk_high_below,
    cast({{ var('risk_medium_below') }} as {{ type_double() }}) as risk_medium_below,
    cast({{ var('grace_period_days') }} as integer) as grace_period_days,
    cast({{ var('renewal_min_training') }} as integer) as min_training,
    cast({{ var('renewal_min_evaluated') }} as integer) as min_evaluated,
    {{ training_date }} as training_date
