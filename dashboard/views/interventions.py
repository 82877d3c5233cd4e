"""Intervention queue: who needs a conversation, why, and which play to run."""

from __future__ import annotations

import serve_data as sd
import streamlit as st

snap = sd.snapshot()
where, params = sd.in_segments()

st.title("Intervention queue")
st.caption("Open triggers ordered by priority (ARR x urgency x severity). Click a header to sort.")

queue = snap.df(
    f"""select priority_rank, account_name, segment, trigger_type, reason, play_name,
        recommended_play, arr, days_to_renewal, next_renewal_date, gap_type, urgency,
        severity, priority_score, account_id
    from marts.fct_intervention_queue where {where} order by priority_rank""",
    params,
)
triggers = sorted(queue["trigger_type"].dropna().unique().tolist())
chosen = st.multiselect("Trigger", triggers, placeholder="All triggers")
shown = queue[queue["trigger_type"].isin(chosen)] if chosen else queue

left, middle, right = st.columns(3)
left.metric("Open interventions", len(shown))
middle.metric("Accounts", shown["account_id"].nunique())
right.metric("ARR concerned", sd.money(shown.drop_duplicates("account_id")["arr"].sum()))

st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_config={
        "priority_rank": st.column_config.NumberColumn("Rank"),
        "arr": st.column_config.NumberColumn("ARR", format="dollar"),
        "priority_score": st.column_config.NumberColumn("Priority", format="%.0f"),
        "urgency": st.column_config.NumberColumn(format="%.2f"),
        "severity": st.column_config.NumberColumn(format="%.2f"),
        "reason": st.column_config.TextColumn(width="large"),
        "recommended_play": st.column_config.TextColumn(width="large"),
    },
)
