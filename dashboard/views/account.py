"""Account drill-down: goals with partial progress, health components, usage, intent."""

from __future__ import annotations

import altair as alt
import pandas as pd
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
where, params = sd.in_segments()

st.title("Account drill-down")
accounts = snap.df(
    f"""select account_id, account_name, segment, gap_type, arr
    from marts.fct_success_gaps where {where}
    order by gap_score desc nulls last, arr desc""",
    params,
)
if accounts.empty:
    st.info("No current customers in this selection.")
    st.stop()
labels = {
    row.account_id: f"{row.account_name} ({row.segment}, {row.gap_type})"
    for row in accounts.itertuples()
}
account_id = st.selectbox(
    "Account (ordered by success gap)", list(labels), format_func=labels.get, key="account_id"
)

gap = snap.df("select * from marts.fct_success_gaps where account_id = ?", [account_id]).iloc[0]


def known(value) -> bool:
    return value is not None and not pd.isna(value)


intent = gap["latest_intent_answer"] if known(gap["latest_intent_answer"]) else None
asked = gap["latest_intent_asked_on"]
columns = st.columns(5)
columns[0].metric("ARR", sd.money(gap["arr"]))
columns[1].metric("Vendor view (health)", sd.number(gap["vendor_view_score"], 0))
columns[2].metric("Customer view", sd.number(gap["customer_view_score"], 0))
columns[3].metric(
    "Days to renewal", str(int(gap["days_to_renewal"])) if known(gap["days_to_renewal"]) else "—"
)
columns[4].metric("Renewal intent", intent or "not asked")
st.caption(
    f"Gap type **{gap['gap_type']}**, value realization {gap['value_realization_level']}, "
    f"lifecycle {gap['lifecycle_stage']}. Latest renewal-intent answer: {intent or 'none'}"
    + (f" (asked {pd.Timestamp(asked):%Y-%m-%d})" if intent and known(asked) else "")
)

st.subheader("Goals")
goals = snap.df(
    """select goal_title, attainment_pct, attainment_status, progress_ratio,
        expected_progress_ratio, is_on_track, customer_confirmed_outcome, is_outcome_disputed,
        outcome_category, kpi_name, kpi_unit, baseline_value, target_value, latest_value,
        target_date, goal_status
    from marts.fct_goal_attainment where account_id = ? order by target_date""",
    [account_id],
)
if goals.empty:
    st.info("No goals recorded for this account.")
else:
    st.dataframe(
        goals,
        hide_index=True,
        width="stretch",
        column_config={
            "attainment_pct": st.column_config.ProgressColumn(
                "Attainment", min_value=0, max_value=100, format="%.0f %%"
            ),
            "progress_ratio": st.column_config.NumberColumn("Progress ratio", format="%.2f"),
            "expected_progress_ratio": st.column_config.NumberColumn("Expected", format="%.2f"),
        },
    )

st.subheader("Health components")
health = snap.df(
    """select week_start, breadth_score, depth_score, frequency_score, trend_score,
        sentiment_score, health_score
    from marts.fct_account_health where account_id = ? order by week_start""",
    [account_id],
)
if health.empty:
    st.info("No health scores for this account.")
else:
    long = health.melt("week_start", var_name="component", value_name="score").dropna()
    long["week_start"] = long["week_start"].astype("datetime64[ns]")
    long["score"] = long["score"].astype(float)
    chart = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("week_start:T", title="Week"),
            y=alt.Y("score:Q", title="Score (0-100)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("component:N", title="Component"),
            strokeWidth=alt.condition(
                alt.datum.component == "health_score", alt.value(3), alt.value(1.2)
            ),
            tooltip=["week_start:T", "component", alt.Tooltip("score:Q", format=".0f")],
        )
        .properties(height=300)
    )
    st.altair_chart(chart, width="stretch")

st.subheader("Usage")
usage = snap.df(
    """select usage_date, active_users, sessions, feature_events
    from marts.fct_account_usage_daily where account_id = ? order by usage_date""",
    [account_id],
)
if usage.empty:
    st.info("No usage recorded for this account.")
else:
    usage["usage_date"] = usage["usage_date"].astype("datetime64[ns]")
    weekly = usage.set_index("usage_date").resample("W-MON", label="left", closed="left").sum()
    weekly = weekly.reset_index().melt("usage_date", var_name="measure", value_name="value")
    weekly["value"] = weekly["value"].astype(float)
    chart = (
        alt.Chart(weekly)
        .mark_line()
        .encode(
            x=alt.X("usage_date:T", title="Week"),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("measure:N", title=None),
            tooltip=["usage_date:T", "measure", "value"],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, width="stretch")
