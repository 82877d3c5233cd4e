"""Renewal risk by quarter: predicted renewal probability and ARR at risk."""

from __future__ import annotations

import altair as alt
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
where, params = sd.in_segments("accounts.segment")

st.title("Renewal risk")
predictions = snap.df(
    f"""select
        cast(date_trunc('quarter', predictions.renewal_date) as date) as renewal_quarter,
        predictions.renewal_date, accounts.account_name, accounts.segment,
        predictions.expiring_arr, predictions.renewal_probability, predictions.risk_band,
        predictions.arr_at_risk, predictions.top_drivers, predictions.contract_id,
        predictions.account_id, predictions.model_version, predictions.model_status,
        predictions.scored_at
    from marts.fct_renewal_predictions as predictions
    inner join marts.dim_accounts as accounts on predictions.account_id = accounts.account_id
    where {where}
    order by predictions.arr_at_risk desc""",
    params,
)
if predictions.empty:
    st.info("No pending renewals scored in the horizon for this selection.")
    st.stop()


def model_details() -> None:
    """The model's version, status and scoring date, and the renewals' contract IDs."""
    first = predictions.iloc[0]
    status = "trained" if first["model_status"] == "ok" else sd.humanize(first["model_status"])
    with st.expander("Model details"):
        st.caption(
            f"Model version `{first['model_version']}` ({status}), "
            f"scored on {sd.day(first['scored_at'])}."
        )
        sd.show_table(predictions, ["renewal_date", "account_name", "account_id", "contract_id"])


min_training = int(sd.project_number("renewal_min_training", 40))
NO_MODEL = {
    "no_signal": "The model found no signal in this data: no feature separates the renewals "
    "that renewed from those that churned, so no account is ranked.",
    "too_few": f"Too few closed renewals to train a model (it needs at least {min_training}): "
    "no account is ranked.",
    "one_class": "Every closed renewal had the same outcome: no model can be trained, so no "
    "account is ranked.",
}
status = predictions["model_status"].iloc[0]
if status in NO_MODEL:
    st.warning(NO_MODEL[status])
    sd.show_table(
        predictions, ["renewal_quarter", "renewal_date", "account_name", "segment", "expiring_arr"]
    )
    model_details()
    st.stop()

scored_on = predictions["scored_at"].iloc[0]
horizon = int(sd.project_number("renewal_horizon_days", 180))
overdue = int((predictions["renewal_date"] < scored_on).sum())
st.caption(
    f"Pending renewals due from {sd.day(predictions['renewal_date'].min())} to "
    f"{sd.day(predictions['renewal_date'].max())}: up to {horizon} days after "
    f"{sd.day(scored_on)}, and {overdue} past their date with no decision yet. Scored on "
    f"{sd.day(scored_on)} by the renewal model (version under *Model details* below)."
)
left, middle, right = st.columns(3)
left.metric("ARR at risk", sd.money(predictions["arr_at_risk"].sum()))
middle.metric("Expiring ARR", sd.money(predictions["expiring_arr"].sum()))
right.metric("High-risk renewals", int((predictions["risk_band"] == "high").sum()))

by_quarter = (
    predictions.assign(
        arr_at_risk=predictions["arr_at_risk"].astype(float),
        quarter=predictions["renewal_quarter"].map(sd.quarter_label),
        band=predictions["risk_band"].map(sd.humanize),
    )
    .groupby(["quarter", "band"], as_index=False)["arr_at_risk"]
    .sum()
)
chart = (
    alt.Chart(by_quarter)
    .mark_bar()
    .encode(
        x=alt.X("quarter:O", title="Renewal quarter", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("arr_at_risk:Q", title="ARR at risk", axis=alt.Axis(format="$,.0f")),
        color=alt.Color(
            "band:N",
            title="Risk band",
            scale=alt.Scale(
                domain=["High", "Medium", "Low"], range=["#d62728", "#ff7f0e", "#2ca02c"]
            ),
        ),
        tooltip=[
            sd.tip("quarter", title="Renewal quarter"),
            sd.tip("band", title="Risk band"),
            sd.tip("arr_at_risk", type_="Q"),
        ],
    )
    .properties(height=360)
)
st.altair_chart(chart, width="stretch")

sd.show_table(
    predictions,
    [
        "renewal_quarter",
        "renewal_date",
        "account_name",
        "segment",
        "expiring_arr",
        "renewal_probability",
        "risk_band",
        "arr_at_risk",
        "top_drivers",
    ],
    kinds={"renewal_probability": "progress"},
    widths={"top_drivers": "large"},
)
model_details()
