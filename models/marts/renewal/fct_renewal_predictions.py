"""Renewal probability of each pending renewal within the horizon, with its top drivers.

The model (regularized logistic regression or gradient boosting, whichever backtests better on
a time-based split) lives in customer_outcomes.renewal_model; see DECISIONS.md.
"""

from customer_outcomes.renewal_model import run_cached, settings_from_frame


def model(dbt, session):
    dbt.config(materialized="table")
    result = run_cached(
        dbt.ref("int_renewal_features").df(),
        settings_from_frame(dbt.ref("int_renewal_model_settings").df()),
    )
    out = result.predictions.rename(columns={"as_of_date": "scored_at"})
    return out[
        [
            "contract_id",
            "account_id",
            "renewal_date",
            "cutoff_date",
            "expiring_arr",
            "renewal_probability",
            "risk_band",
            "arr_at_risk",
            "top_drivers",
            "model_status",
            "model_version",
            "scored_at",
        ]
    ]
