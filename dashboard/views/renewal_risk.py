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
        predictions.model_version, predictions.model_status, predictions.scored_at
    from marts.fct_renewal_predictions as predictions
    inner join marts.dim_accounts as accounts on predictions.account_id = accounts.account_id
    where {where}
    order by predictions.arr_at_risk desc""",
    params,
)
if predictions.empty:
    st.info("No pending renewals scored in the horizon for this selection.")
    st.stop()
NO_MODEL = {
    "no_signal": "The model found no signal in this data: no feature separates the renewals "
    "that renewed from those that churned, so no account is ranked.",
    "too_few": "Too few closed renewals to train a model (var renewal_min_training): no "
    "account is ranked.",
    "one_class": "Every closed renewal had the same outcome: no model can be trained, so no "
    "account is ranked.",
}
status = predictions["model_status"].iloc[0]
if status in NO_MODEL:
    st.warning(NO_MODEL[status])
    st.dataframe(
        predictions[["renewal_date", "account_name", "segment", "expiring_arr"]],
        hide_index=True,
        width="stretch",
    )
    st.stop()

st.caption(
    f"Pending renewals in the horizon, scored as of {predictions['scored_at'].iloc[0]} by "
    f"{predictions['model_version'].iloc[0]}."
)
left, middle, right = st.columns(3)
left.metric("ARR at risk", sd.money(predictions["arr_at_risk"].sum()))
middle.metric("Expiring ARR", sd.money(predictions["expiring_arr"].sum()))
right.metric("High-risk renewals", int((predictions["risk_band"] == "high").sum()))

by_quarter = (
    predictions.assign(
        arr_at_risk=predictions["arr_at_risk"].astype(float),
        quarter=predictions["renewal_quarter"].astype(str),
    )
    .groupby(["quarter", "risk_band"], as_index=False)["arr_at_risk"]
    .sum()
)
chart = (
    alt.Chart(by_quarter)
    .mark_bar()
    .encode(
        x=alt.X("quarter:O", title="Renewal quarter"),
        y=alt.Y("arr_at_risk:Q", title="ARR at risk", axis=alt.Axis(format="$,.0f")),
        color=alt.Color(
            "risk_band:N",
            title="Risk band",
            scale=alt.Scale(
                domain=["high", "medium", "low"], range=["#d62728", "#ff7f0e", "#2ca02c"]
            ),
        ),
        tooltip=["quarter", "risk_band", alt.Tooltip("arr_at_risk:Q", format="$,.0f")],
    )
    .properties(height=360)
)
st.altair_chart(chart, width="stretch")

st.dataframe(
    predictions.drop(columns=["model_version", "model_status", "scored_at"]),
    hide_index=True,
    width="stretch",
    column_config={
        "expiring_arr": st.column_config.NumberColumn("Expiring ARR", format="dollar"),
        "arr_at_risk": st.column_config.NumberColumn("ARR at risk", format="dollar"),
        "renewal_probability": st.column_config.ProgressColumn(
            "Renewal probability", min_value=0.0, max_value=1.0, format="percent"
        ),
        "top_drivers": st.column_config.TextColumn("Top drivers", width="large"),
    },
)
