"""Cohort retention heatmap: logo or ARR retention by start quarter and months since start."""

from __future__ import annotations

import altair as alt
import serve_data as sd
import streamlit as st

snap = sd.snapshot()

st.title("Cohort retention")
st.caption("Cohorts by the quarter of their first contract (all segments).")
measure = st.radio(
    "Retention",
    ["logo_retention_rate", "arr_retention_rate"],
    horizontal=True,
    format_func=lambda name: {"logo_retention_rate": "Logos", "arr_retention_rate": "ARR"}[name],
)
cohorts = snap.df(
    """select cohort_quarter, months_since_start, cohort_accounts, retained_accounts,
        logo_retention_rate, cohort_starting_arr, retained_arr, arr_retention_rate
    from marts.fct_cohort_retention order by cohort_quarter, months_since_start"""
)
if cohorts.empty:
    st.info("No cohorts yet.")
    st.stop()

at_twelve = cohorts[cohorts["months_since_start"] == 12]
columns = st.columns(3)
columns[0].metric("Cohorts", cohorts["cohort_quarter"].nunique())
columns[1].metric(
    "Logo retention at 12 months (mean of cohorts)",
    sd.pct(at_twelve["logo_retention_rate"].mean()) if not at_twelve.empty else "—",
)
columns[2].metric(
    "ARR retention at 12 months (mean of cohorts)",
    sd.pct(at_twelve["arr_retention_rate"].mean()) if not at_twelve.empty else "—",
)

data = cohorts.assign(cohort=cohorts["cohort_quarter"].astype(str))
data[measure] = data[measure].astype(float)
heatmap = (
    alt.Chart(data)
    .mark_rect()
    .encode(
        x=alt.X("months_since_start:O", title="Months since start"),
        y=alt.Y("cohort:O", title="Cohort (start quarter)"),
        color=alt.Color(
            f"{measure}:Q",
            title="Retention",
            scale=alt.Scale(scheme="redyellowgreen"),
            legend=alt.Legend(format=".0%"),
        ),
        tooltip=[
            "cohort",
            "months_since_start",
            "cohort_accounts",
            "retained_accounts",
            alt.Tooltip(f"{measure}:Q", format=".1%"),
        ],
    )
    .properties(height=alt.Step(22))
)
st.altair_chart(heatmap, width="stretch")
