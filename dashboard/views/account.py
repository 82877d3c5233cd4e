"""Account drill-down: goals with partial progress, health components, usage, intent."""

from __future__ import annotations

import altair as alt
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
    row.account_id: f"{row.account_name} ({sd.humanize(row.segment)}, {sd.humanize(row.gap_type)})"
    for row in accounts.itertuples()
}
account_id = st.selectbox(
    "Account (ordered by success gap)", list(labels), format_func=labels.get, key="account_id"
)

gap = snap.df("select * from marts.fct_success_gaps where account_id = ?", [account_id]).iloc[0]
known = sd.known

intent = sd.humanize(gap["latest_intent_answer"]) if known(gap["latest_intent_answer"]) else None
asked = gap["latest_intent_asked_on"]
columns = st.columns(5)
columns[0].metric("ARR", sd.money(gap["arr"]))
columns[1].metric("Vendor view (health)", sd.number(gap["vendor_view_score"], 0))
columns[2].metric("Customer view", sd.number(gap["customer_view_score"], 0))
columns[3].metric(
    "Days to renewal", str(int(gap["days_to_renewal"])) if known(gap["days_to_renewal"]) else "—"
)
columns[4].metric("Renewal intent", intent or "Not asked")


st.caption(
    f"Gap type: **{sd.humanize(gap['gap_type']) or 'Unknown'}** · Value realized: "
    f"{sd.humanize(gap['value_realization_level']) or 'Unknown'} · Lifecycle stage: "
    f"{sd.humanize(gap['lifecycle_stage']) or 'Unknown'} · Latest renewal-intent answer: "
    + (f"{intent} (asked {sd.day(asked)})" if intent and known(asked) else intent or "none")
)
with st.expander("Account ID"):
    st.caption(f"Account ID `{account_id}`")

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
    sd.show_table(goals, list(goals.columns))

COMPONENTS = [
    "breadth_score",
    "depth_score",
    "frequency_score",
    "trend_score",
    "sentiment_score",
    "health_score",
]
st.subheader("Health components")
health = snap.df(
    f"""select week_start, {", ".join(COMPONENTS)}
    from marts.fct_account_health where account_id = ? order by week_start""",
    [account_id],
)
if health.empty:
    st.info("No health scores for this account.")
else:
    long = health.melt("week_start", var_name="component", value_name="score").dropna()
    long["week_start"] = long["week_start"].astype("datetime64[ns]")
    long["score"] = long["score"].astype(float)
    long["component"] = long["component"].map(sd.label)
    overall = sd.label("health_score")
    chart = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("week_start:T", title="Week"),
            y=alt.Y("score:Q", title="Score (0-100)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "component:N",
                title="Component",
                sort=[sd.label(c) for c in COMPONENTS],
            ),
            strokeWidth=alt.condition(alt.datum.component == overall, alt.value(3), alt.value(1.2)),
            tooltip=[
                sd.tip("week_start", title="Week of"),
                alt.Tooltip("component:N", title="Component"),
                alt.Tooltip("score:Q", title="Score", format=".0f"),
            ],
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
    weekly["measure"] = weekly["measure"].map(sd.label)
    chart = (
        alt.Chart(weekly)
        .mark_line()
        .encode(
            x=alt.X("usage_date:T", title="Week"),
            y=alt.Y("value:Q", title="Per week"),
            color=alt.Color("measure:N", title="Measure"),
            tooltip=[
                sd.tip("usage_date", title="Week of"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("value:Q", title="Per week", format=",.0f"),
            ],
        )
        .properties(height=260)
    )
    st.altair_chart(chart, width="stretch")
