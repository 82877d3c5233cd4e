"""NPS, CSAT, GRR and NRR by month and segment."""

from __future__ import annotations

import altair as alt
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
segments = sd.selected_segments()

st.title("Metric trends")
include_current = st.toggle("Include the current (incomplete) month", value=False)
monthly = snap.df(
    f"""select month_start, segment, is_complete_month, nps, nps_responses, csat_pct,
        csat_responses, grr, nrr, grr_ttm, nrr_ttm, logo_churn_rate, ending_arr
    from marts.fct_customer_metrics_monthly
    where segment in ({", ".join("?" for _ in segments)}, 'all')
    order by month_start, segment""",
    segments,
)
if not include_current:
    monthly = monthly[monthly["is_complete_month"]]
if monthly.empty:
    st.info("No months to show.")
    st.stop()

overall = monthly[monthly["segment"] == "all"]


def latest(field: str):
    """The latest month with a value of ``field`` for all segments, and that value."""
    known = overall.dropna(subset=[field])
    if known.empty:
        return None, None
    row = known.iloc[-1]
    return row["month_start"], row[field]


st.caption("All segments, the latest month with data (the month under each figure)")
columns = st.columns(5)
for column, (field, label, fmt) in zip(
    columns,
    [
        ("nps", "NPS", sd.number),
        ("csat_pct", "CSAT %", sd.number),
        ("grr", "GRR", sd.pct),
        ("nrr", "NRR", sd.pct),
        ("ending_arr", "ARR", sd.money),
    ],
    strict=True,
):
    month, value = latest(field)
    column.metric(label, fmt(value))
    column.caption("—" if month is None else f"{month:%B %Y}")

CHARTS = [
    ("nps", "NPS (-100..100)", ".1f"),
    ("csat_pct", "CSAT % (0..100)", ".1f"),
    ("grr", "GRR (monthly)", ".1%"),
    ("nrr", "NRR (monthly)", ".1%"),
    ("grr_ttm", "GRR (trailing twelve months)", ".1%"),
    ("nrr_ttm", "NRR (trailing twelve months)", ".1%"),
]
frame = monthly.assign(month=monthly["month_start"].astype("datetime64[ns]"))
for row in range(0, len(CHARTS), 2):
    for column, (field, title, fmt) in zip(st.columns(2), CHARTS[row : row + 2], strict=True):
        data = frame[["month", "segment", field]].dropna()
        data[field] = data[field].astype(float)
        chart = (
            alt.Chart(data, title=title)
            .mark_line(point=True)
            .encode(
                x=alt.X("month:T", title=None),
                y=alt.Y(
                    f"{field}:Q", title=None, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)
                ),
                color=alt.Color("segment:N", title="Segment"),
                tooltip=["month:T", "segment", alt.Tooltip(f"{field}:Q", format=fmt)],
            )
            .properties(height=260)
        )
        column.altair_chart(chart, width="stretch")
