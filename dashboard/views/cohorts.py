"""Cohort retention heatmap: logo or ARR retention by start quarter and months since start."""

from __future__ import annotations

import altair as alt
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
min_base = sd.retention_min_base()

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

# A cohort's retention compares with the accounts it started with (cohort_accounts): cohorts
# smaller than var retention_min_base_accounts swing between 0 and 100 % and are not shown.
large = cohorts[cohorts["cohort_accounts"] >= min_base]
small = cohorts[cohorts["cohort_accounts"] < min_base]
at_twelve = large[large["months_since_start"] == 12]
columns = st.columns(3)
columns[0].metric("Cohorts", cohorts["cohort_quarter"].nunique())
columns[1].metric(
    "Logo retention at 12 months (mean of cohorts)",
    sd.pct(at_twelve["logo_retention_rate"].mean()) if not at_twelve.empty else "—",
    help=f"Cohorts of at least {min_base} accounts.",
)
columns[2].metric(
    "ARR retention at 12 months (mean of cohorts)",
    sd.pct(at_twelve["arr_retention_rate"].mean()) if not at_twelve.empty else "—",
    help=f"Cohorts of at least {min_base} accounts.",
)

data = large.assign(
    cohort=large["cohort_quarter"].map(sd.quarter_label),
    cohort_starting_arr=large["cohort_starting_arr"].astype(float),
    retained_arr=large["retained_arr"].astype(float),
)
data[measure] = data[measure].astype(float)
heatmap = (
    alt.Chart(data)
    .mark_rect()
    .encode(
        x=alt.X("months_since_start:O", title="Months since start"),
        y=alt.Y("cohort:O", title="Cohort (start quarter)"),
        color=alt.Color(
            f"{measure}:Q",
            title=sd.label(measure),
            scale=alt.Scale(scheme="redyellowgreen"),
            legend=alt.Legend(format=".0%"),
        ),
        tooltip=[
            sd.tip("cohort", title="Cohort (start quarter)"),
            sd.tip("months_since_start", type_="Q"),
            sd.tip("cohort_accounts", type_="Q"),
            sd.tip("retained_accounts", type_="Q"),
            sd.tip("cohort_starting_arr", type_="Q"),
            sd.tip("retained_arr", type_="Q"),
            sd.tip(measure, type_="Q"),
        ],
    )
    .properties(height=alt.Step(22))
)
st.altair_chart(heatmap, width="stretch")
if not small.empty:
    hidden = small.drop_duplicates("cohort_quarter")
    st.caption(
        f"Not shown: {len(hidden)} cohort(s) of fewer than {min_base} accounts ("
        + ", ".join(
            f"{sd.quarter_label(row.cohort_quarter)}: {int(row.cohort_accounts)}"
            for row in hidden.itertuples()
        )
        + "); a retention rate over so few accounts swings between 0 and 100 %."
    )
