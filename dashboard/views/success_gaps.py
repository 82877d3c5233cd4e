"""Success-gap quadrant: the vendor's view (health) against the customer's own view."""

from __future__ import annotations

import altair as alt
import pandas as pd
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
limits = sd.thresholds()
where, params = sd.in_segments()

st.title("Success gaps")
st.caption(
    "Vendor view = health score; customer view = goal pace, renewal intent and CSAT (0-100). "
    "Usage traps look healthy to us and are not getting what they bought."
)

gaps = snap.df(
    f"""select account_id, account_name, segment, arr, days_to_renewal, lifecycle_stage,
        vendor_view_score, customer_view_score, gap_score, gap_type, health_band,
        value_realization_level, goals_total, active_goals_off_track, latest_intent_answer
    from marts.fct_success_gaps where {where} order by gap_score desc nulls last""",
    params,
)

counts = gaps["gap_type"].value_counts()
columns = st.columns(len(sd.GAP_TYPES))
for column, gap_type in zip(columns, sd.GAP_TYPES, strict=True):
    arr = gaps.loc[gaps["gap_type"] == gap_type, "arr"].sum()
    column.metric(
        sd.GAP_LABELS[gap_type],
        int(counts.get(gap_type, 0)),
        help=f"ARR {sd.money(arr)}",
    )

plotted = gaps.dropna(subset=["vendor_view_score", "customer_view_score"]).copy()
plotted["arr"] = plotted["arr"].astype(float)
points = (
    alt.Chart(plotted)
    .mark_circle(opacity=0.7)
    .encode(
        x=alt.X(
            "vendor_view_score:Q", title="Vendor view (health)", scale=alt.Scale(domain=[0, 100])
        ),
        y=alt.Y("customer_view_score:Q", title="Customer view", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color(
            "gap_type:N",
            title="Gap type",
            scale=alt.Scale(domain=sd.GAP_TYPES, range=sd.GAP_COLORS),
        ),
        size=alt.Size("arr:Q", title="ARR", scale=alt.Scale(range=[20, 600])),
        tooltip=[
            "account_name",
            "segment",
            "gap_type",
            alt.Tooltip("arr:Q", format="$,.0f"),
            alt.Tooltip("vendor_view_score:Q", format=".0f"),
            alt.Tooltip("customer_view_score:Q", format=".0f"),
            "days_to_renewal",
            "latest_intent_answer",
        ],
    )
)
vertical = pd.DataFrame(
    {
        "x": [limits["vendor_view_low_below"], limits["vendor_view_high_min"]],
        "line": ["vendor view low below", "vendor view high from"],
    }
)
horizontal = pd.DataFrame({"y": [limits["customer_view_low_below"]]})
rules = alt.Chart(vertical).mark_rule(strokeDash=[6, 4], color="#444").encode(
    x="x:Q", tooltip=["line", "x"]
) + alt.Chart(horizontal).mark_rule(strokeDash=[6, 4], color="#444").encode(y="y:Q")
st.altair_chart((points + rules).properties(height=520), width="stretch")
st.caption(
    f"Lines: vendor view {limits['vendor_view_low_below']:.0f} and "
    f"{limits['vendor_view_high_min']:.0f}, customer view {limits['customer_view_low_below']:.0f} "
    "(dbt vars vendor_view_low_below, vendor_view_high_min, customer_view_low_below). "
    f"{len(gaps) - len(plotted)} account(s) without both scores are not plotted."
)

chosen = st.multiselect("Gap types in the table", sd.GAP_TYPES, default=["usage_trap", "at_risk"])
st.dataframe(
    gaps[gaps["gap_type"].isin(chosen)],
    hide_index=True,
    width="stretch",
    column_config={
        "arr": st.column_config.NumberColumn("ARR", format="dollar"),
        "vendor_view_score": st.column_config.NumberColumn("Vendor view", format="%.0f"),
        "customer_view_score": st.column_config.NumberColumn("Customer view", format="%.0f"),
        "gap_score": st.column_config.NumberColumn("Gap", format="%.0f"),
    },
)
