"""Calibration of the full model on the test set: predicted against observed renewal rate by
decile of predicted probability."""

from customer_outcomes.renewal_model import run_cached, settings_from_frame


def model(dbt, session):
    dbt.config(materialized="table")
    # Runs after the predictions, whose training run it reuses from the process's cache,
    # instead of holding a dbt thread while it waits for that training to finish.
    dbt.ref("fct_renewal_predictions")
    return run_cached(
        dbt.ref("int_renewal_features").df(),
        settings_from_frame(dbt.ref("int_renewal_model_settings").df()),
    ).calibration
