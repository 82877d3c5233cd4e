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
plotted["segment_label"] = plotted["segment"].map(sd.humanize)
plotted["gap_label"] = plotted["gap_type"].map(sd.humanize)
plotted["intent_label"] = plotted["latest_intent_answer"].map(sd.humanize).fillna("Not asked")
points = (
    alt.Chart(plotted)
    .mark_circle(opacity=0.7)
    .encode(
        x=alt.X(
            "vendor_view_score:Q", title="Vendor view (health)", scale=alt.Scale(domain=[0, 100])
        ),
        y=alt.Y("customer_view_score:Q", title="Customer view", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color(
            "gap_label:N",
            title="Gap type",
            scale=alt.Scale(
                domain=[sd.humanize(gap_type) for gap_type in sd.GAP_TYPES], range=sd.GAP_COLORS
            ),
        ),
        size=alt.Size(
            "arr:Q",
            title="ARR",
            scale=alt.Scale(range=[20, 600]),
            legend=alt.Legend(format="$,.0f"),
        ),
        tooltip=[
            sd.tip("account_name"),
            sd.tip("segment_label", title="Segment"),
            sd.tip("gap_label", title="Gap type"),
            sd.tip("arr", type_="Q"),
            sd.tip("vendor_view_score", type_="Q"),
            sd.tip("customer_view_score", type_="Q"),
            sd.tip("days_to_renewal", type_="Q"),
            sd.tip("intent_label", title="Renewal intent"),
        ],
    )
)
vertical = pd.DataFrame(
    {
        "x": [limits["vendor_view_low_below"], limits["vendor_view_high_min"]],
        "line": ["Vendor view low below", "Vendor view high from"],
    }
)
horizontal = pd.DataFrame({"y": [limits["customer_view_low_below"]]})
rules = alt.Chart(vertical).mark_rule(strokeDash=[6, 4], color="#444").encode(
    x="x:Q",
    tooltip=[alt.Tooltip("line:N", title="Line"), alt.Tooltip("x:Q", title="Score")],
) + alt.Chart(horizontal).mark_rule(strokeDash=[6, 4], color="#444").encode(
    y="y:Q", tooltip=[alt.Tooltip("y:Q", title="Customer view low below")]
)
st.altair_chart((points + rules).properties(height=520), width="stretch")
st.caption(
    f"Dashed lines: vendor view {limits['vendor_view_low_below']:.0f} (low below) and "
    f"{limits['vendor_view_high_min']:.0f} (high from), customer view "
    f"{limits['customer_view_low_below']:.0f} (low below), as set in the project's "
    f"configuration. {len(gaps) - len(plotted)} account(s) without both scores are not plotted."
)

chosen = st.multiselect(
    "Gap types in the table",
    sd.GAP_TYPES,
    default=["usage_trap", "at_risk"],
    format_func=lambda gap_type: sd.GAP_LABELS[gap_type],
)
listed = gaps[gaps["gap_type"].isin(chosen)]
sd.show_table(
    listed,
    [
        "account_name",
        "segment",
        "arr",
        "days_to_renewal",
        "lifecycle_stage",
        "vendor_view_score",
        "customer_view_score",
        "gap_score",
        "gap_type",
        "health_band",
        "value_realization_level",
        "goals_total",
        "active_goals_off_track",
        "latest_intent_answer",
    ],
    helps={
        "gap_score": "Vendor view minus customer view: high when we think it goes well "
        "and the customer does not."
    },
)
with st.expander("Account IDs"):
    sd.show_table(listed, ["account_name", "account_id"])
