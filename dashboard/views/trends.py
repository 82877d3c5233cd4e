"""NPS, CSAT, GRR and NRR by month and segment."""

from __future__ import annotations

import altair as alt
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
segments = sd.selected_segments()
min_base = sd.retention_min_base()

st.title("Metric trends")
include_current = st.toggle("Include the current (incomplete) month", value=False)
monthly = snap.df(
    f"""select month_start, segment, is_complete_month, nps, nps_responses, csat_pct,
        csat_responses, grr, nrr, grr_ttm, nrr_ttm, logo_churn_rate, ending_arr,
        accounts_at_start, ttm_starting_accounts
    from marts.fct_customer_metrics_monthly
    where segment in ({", ".join("?" for _ in segments)}, 'all')
    order by month_start, segment""",
    segments,
)
# The comparison base of each retention rate, in accounts: the accounts paying at the start of
# the month (monthly GRR and NRR), and twelve months before (the trailing-twelve-month rates).
monthly["base_year_ago"] = monthly["ttm_starting_accounts"]
monthly["base_month_start"] = monthly["accounts_at_start"]
if not include_current:
    monthly = monthly[monthly["is_complete_month"]]
if monthly.empty:
    st.info("No months to show.")
    st.stop()

overall = monthly[monthly["segment"] == "all"]


def latest(field: str):
    """The latest month with a value of ``field`` for all segments (for a trailing-twelve-month
    rate, with a base of at least the minimum), and that month's row."""
    known = overall.dropna(subset=[field])
    if field.endswith("_ttm"):
        known = known[known["base_year_ago"] >= min_base]
    if known.empty:
        return None, None
    row = known.iloc[-1]
    return row["month_start"], row


st.caption(
    "All segments, the latest month with data (the month under each figure); GRR and NRR over "
    "the twelve months to that month"
)
columns = st.columns(5)
for column, (field, title, fmt) in zip(
    columns,
    [
        ("nps", "NPS", sd.number),
        ("csat_pct", "CSAT %", sd.number),
        ("grr_ttm", "GRR, 12 months", sd.pct),
        ("nrr_ttm", "NRR, 12 months", sd.pct),
        ("ending_arr", "ARR", sd.money_short),
    ],
    strict=True,
):
    month, row = latest(field)
    value = None if row is None else row[field]
    help_text = sd.money(value) if field == "ending_arr" else None
    if field.endswith("_ttm") and row is not None:
        help_text = f"The month alone: {sd.pct(row[field.removesuffix('_ttm')])}"
    column.metric(title, fmt(value), help=help_text)
    column.caption(sd.month_label(month))

# The comparison bases of the retention rates, in words.
BASES = {
    "base_month_start": "accounts at the start of the month",
    "base_year_ago": "accounts paying twelve months earlier",
}
# field, chart title, value format, the column holding its comparison base (retention only)
CHARTS = [
    ("nps", "NPS (-100..100)", ".1f", None),
    ("csat_pct", "CSAT % (0..100)", ".1f", None),
    ("grr", "GRR (monthly)", ".1%", "base_month_start"),
    ("nrr", "NRR (monthly)", ".1%", "base_month_start"),
    ("grr_ttm", "GRR (trailing twelve months)", ".1%", "base_year_ago"),
    ("nrr_ttm", "NRR (trailing twelve months)", ".1%", "base_year_ago"),
]
frame = monthly.assign(
    month=monthly["month_start"], segment_label=monthly["segment"].map(sd.humanize)
)
for row in range(0, len(CHARTS), 2):
    for column, (field, title, fmt, base) in zip(st.columns(2), CHARTS[row : row + 2], strict=True):
        data = frame.dropna(subset=[field])
        hidden = data.iloc[0:0]
        if base is not None:
            small = data[base] < min_base
            hidden, data = data[small], data[~small]
        data = data[["month", "segment_label", field]].copy()
        data[field] = data[field].astype(float)
        chart = (
            alt.Chart(data, title=title)
            .mark_line(point=True)
            .encode(
                x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
                y=alt.Y(
                    f"{field}:Q", title=None, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False)
                ),
                color=alt.Color("segment_label:N", title="Segment"),
                tooltip=[
                    sd.tip("month", "month", title="Month"),
                    sd.tip("segment_label", title="Segment"),
                    alt.Tooltip(f"{field}:Q", title=sd.label(field), format=fmt),
                ],
            )
            .properties(height=260)
        )
        column.altair_chart(chart, width="stretch")
        if not hidden.empty:
            by_segment = hidden.groupby("segment_label").size()
            column.caption(
                "Not shown: "
                + ", ".join(
                    f"{segment} {n} month{'s' if n > 1 else ''}"
                    for segment, n in by_segment.items()
                )
                + f" with fewer than {min_base} {BASES[base]} to compare with; a rate over so "
                "few accounts swings between 0 and 100 %."
            )
