"""Calibration of the full model on the test set: predicted against observed renewal rate by
decile of predicted probability."""

from customer_outcomes.renewal_model import run_cached, settings_from_frame


def model(dbt, session):
    dbt.config(materialized="table")
    return run_cached(
        dbt.ref("int_renewal_features").df(),
        settings_from_frame(dbt.ref("int_renewal_model_settings").df()),
    ).calibration
