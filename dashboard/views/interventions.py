"""The CSM worklist: this week's accounts per owner, why, and which play to run."""

from __future__ import annotations

import serve_data as sd
import streamlit as st

snap = sd.snapshot()
where, params = sd.in_segments()

st.title("CSM worklist")
st.caption(
    "This week's accounts per owner, plays in progress first, then by what is at stake "
    "(ARR x renewal risk x urgency), cut to each owner's weekly capacity. Owners are shown by "
    "the start of their hashed email."
)

worklist = snap.df(
    f"""select queue, queue_rank, status, account_name, segment, reason, recommended_play_name,
        play_in_progress, arr, renewal_probability, risk, risk_source, days_to_renewal,
        priority_score, recommended_play, account_id
    from marts.fct_csm_worklist where {where} order by queue, queue_rank""",
    params,
)


def owner_label(queue: str) -> str:
    return "Unowned" if queue == "unowned" else f"CSM {queue[:8]}"


queues = sorted(worklist["queue"].unique().tolist(), key=lambda q: (q == "unowned", q))
chosen = st.selectbox(
    "Queue", ["all", *queues], format_func=lambda q: "All queues" if q == "all" else owner_label(q)
)
shown = worklist if chosen == "all" else worklist[worklist["queue"] == chosen]
shown = shown.assign(queue=shown["queue"].map(owner_label))

columns = st.columns(4)
columns[0].metric("Accounts this week", len(shown))
columns[1].metric("Plays in progress", int((shown["status"] == "in_progress").sum()))
columns[2].metric("New", int((shown["status"] == "new").sum()))
columns[3].metric("ARR on the list", sd.money(shown["arr"].sum()))

st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_config={
        "queue": st.column_config.TextColumn("Owner"),
        "queue_rank": st.column_config.NumberColumn("Rank"),
        "arr": st.column_config.NumberColumn("ARR", format="dollar"),
        "renewal_probability": st.column_config.NumberColumn("P(renew)", format="%.2f"),
        "risk": st.column_config.NumberColumn(format="%.2f"),
        "priority_score": st.column_config.NumberColumn("At stake", format="%.0f"),
        "reason": st.column_config.TextColumn(width="large"),
        "recommended_play": st.column_config.TextColumn(width="large"),
    },
)

with st.expander("Every open trigger (the full intervention queue)"):
    queue = snap.df(
        f"""select priority_rank, account_name, segment, trigger_type, reason, play_name,
            arr, days_to_renewal, priority_score, account_id
        from marts.fct_intervention_queue where {where} order by priority_rank""",
        params,
    )
    st.metric("Open interventions", len(queue))
    st.dataframe(
        queue,
        hide_index=True,
        width="stretch",
        column_config={
            "priority_rank": st.column_config.NumberColumn("Rank"),
            "arr": st.column_config.NumberColumn("ARR", format="dollar"),
            "priority_score": st.column_config.NumberColumn("Priority", format="%.0f"),
            "reason": st.column_config.TextColumn(width="large"),
        },
    )

effects = snap.df(
    """select play_name, play_key, outcome, status, n_matched, effect, ci_low, ci_high,
        naive_difference
    from marts.fct_play_effectiveness where segment = 'all' order by play_key, outcome"""
)
if not effects.empty:
    st.subheader("Do the plays work?")
    st.caption(
        "Accounts a play was run on against untreated accounts with the same trigger at the "
        "same time (segment, health band, renewal window), change over the 8 weeks after "
        "(renewal: the next renewal), with a 95 % interval. The naive difference compares "
        "treated with all untreated accounts: CSMs pick the accounts that look worst."
    )
    st.dataframe(
        effects,
        hide_index=True,
        width="stretch",
        column_config={
            "play_name": st.column_config.TextColumn("Play"),
            "n_matched": st.column_config.NumberColumn("Matched"),
            "effect": st.column_config.NumberColumn(format="%.3f"),
            "ci_low": st.column_config.NumberColumn("95 % from", format="%.3f"),
            "ci_high": st.column_config.NumberColumn("to", format="%.3f"),
            "naive_difference": st.column_config.NumberColumn("Naive", format="%.3f"),
        },
    )
