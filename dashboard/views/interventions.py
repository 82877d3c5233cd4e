"""The CSM worklist: this week's accounts per owner, why, and which play to run."""

from __future__ import annotations

import pandas as pd
import serve_data as sd
import streamlit as st

snap = sd.snapshot()
where, params = sd.in_segments()

st.title("CSM worklist")
st.caption(
    "This week's accounts per owner, plays in progress first, then by what is at stake "
    "(ARR x renewal risk x urgency), cut to each owner's weekly capacity. Owners are numbered; "
    "the key to their (hashed) emails is under *Owner key and account IDs* below."
)

worklist = snap.df(
    f"""select queue, queue_rank, status, account_name, segment, reason, recommended_play_name,
        play_in_progress, arr, renewal_probability, risk, risk_source, days_to_renewal,
        priority_score, recommended_play, account_id, recommended_play_key
    from marts.fct_csm_worklist where {where} order by queue, queue_rank""",
    params,
)
# Owners by number: every owner of an account (all segments), in the order of their hashed
# email, so a number stays with its owner whatever the segment filter.
owner_hashes = snap.df(
    """select distinct csm_owner_hash from marts.dim_accounts
    where csm_owner_hash is not null order by 1"""
)["csm_owner_hash"].tolist()
for queue in sorted(set(worklist["queue"]) - set(owner_hashes) - {"unowned"}):
    owner_hashes.append(queue)
OWNERS = {owner: f"CSM {number}" for number, owner in enumerate(owner_hashes, start=1)}


def owner_label(queue: str) -> str:
    return "Unowned" if queue == "unowned" else OWNERS.get(queue, "CSM")


# Plays by name, as the marts name them (from the playbooks seed); a key without one in words.
named_plays = snap.df(
    """select distinct play_key, play_name from marts.fct_play_effectiveness
    where play_name is not null
    union
    select distinct recommended_play_key, recommended_play_name from marts.fct_csm_worklist
    where recommended_play_name is not null"""
)
play_names = dict(zip(named_plays["play_key"], named_plays["play_name"], strict=True))


def play_label(key):
    if not sd.known(key):
        return None
    name = play_names.get(key)
    return name if sd.known(name) else sd.humanize(key)


queues = sorted(
    worklist["queue"].unique().tolist(),
    key=lambda q: (q == "unowned", owner_hashes.index(q) if q in owner_hashes else 0),
)
chosen = st.selectbox(
    "Queue", ["all", *queues], format_func=lambda q: "All queues" if q == "all" else owner_label(q)
)
shown = worklist if chosen == "all" else worklist[worklist["queue"] == chosen]
shown = shown.assign(
    queue=shown["queue"].map(owner_label),
    play_in_progress=shown["play_in_progress"].map(play_label),
)

columns = st.columns(4)
columns[0].metric("Accounts this week", len(shown))
columns[1].metric("Plays in progress", int((shown["status"] == "in_progress").sum()))
columns[2].metric("New", int((shown["status"] == "new").sum()))
columns[3].metric("ARR on the list", sd.money(shown["arr"].sum()))

sd.show_table(
    shown,
    [
        "queue",
        "queue_rank",
        "status",
        "account_name",
        "segment",
        "reason",
        "recommended_play_name",
        "play_in_progress",
        "arr",
        "renewal_probability",
        "risk",
        "risk_source",
        "days_to_renewal",
        "priority_score",
        "recommended_play",
    ],
    kinds={"play_in_progress": "text"},
    widths={"reason": "large", "recommended_play": "large"},
    helps={
        "priority_score": "ARR x churn risk x urgency (nearer renewals weigh more).",
        "risk": "1 - renewal probability; without a model, the share of the last year's "
        "renewals that churned.",
    },
)

with st.expander("Owner key and account IDs"):
    st.caption("Owners are numbered in the order of their hashed email (the CRM's owner key).")
    key = pd.DataFrame({"owner": list(OWNERS.values()), "hashed_email": [h[:16] for h in OWNERS]})
    sd.show_table(key, ["owner", "hashed_email"], labels={"hashed_email": "Hashed email (start)"})
    st.caption("Account IDs of the accounts on the list:")
    sd.show_table(shown, ["account_name", "account_id"])

with st.expander("Every open trigger (the full intervention queue)"):
    queue = snap.df(
        f"""select priority_rank, account_name, segment, trigger_type, reason, play_name,
            arr, days_to_renewal, priority_score, account_id
        from marts.fct_intervention_queue where {where} order by priority_rank""",
        params,
    )
    st.metric("Open interventions", len(queue))
    sd.show_table(
        queue,
        [
            "priority_rank",
            "account_name",
            "segment",
            "trigger_type",
            "reason",
            "play_name",
            "arr",
            "days_to_renewal",
            "priority_score",
            "account_id",
        ],
        labels={"priority_score": "Priority"},
        widths={"reason": "large"},
        helps={"priority_score": "ARR x urgency x the trigger's severity."},
    )

effects = snap.df(
    """select play_name, play_key, outcome, status, n_treated, n_matched, effect, ci_low,
        ci_high, naive_difference
    from marts.fct_play_effectiveness where segment = 'all' order by play_key, outcome"""
)
if not effects.empty:
    st.subheader("Do the plays work?")
    st.caption(
        "Accounts a play was run on against untreated accounts with the same trigger at the "
        "same time (segment, health band, renewal window), change over the 8 weeks after "
        "(renewal: the next renewal), with a 95 % interval. Goal progress and renewal in "
        "percentage points, health in points of the health score. The naive difference "
        "compares treated with all untreated accounts: CSMs pick the accounts that look worst. "
        "Too few to tell: fewer matched accounts than needed for an estimate."
    )
    # Goal progress (0-1) and renewal (renewed 1, churned 0) change in percentage points.
    scale = effects["outcome"].map({"goal_progress": 100.0, "renewal": 100.0}).fillna(1.0)
    numbers = ["effect", "ci_low", "ci_high", "naive_difference"]
    effects[numbers] = effects[numbers].astype(float).mul(scale, axis=0)
    effects["play_name"] = [
        name if sd.known(name) else sd.humanize(key)
        for name, key in zip(effects["play_name"], effects["play_key"], strict=True)
    ]
    effects["outcome"] = (
        effects["outcome"]
        .map(
            {
                "goal_progress": "Goal progress (pts)",
                "renewal": "Renewal rate (pts)",
                "health": "Health score (points)",
            }
        )
        .fillna(effects["outcome"].map(sd.humanize))
    )
    sd.show_table(
        effects,
        [
            "play_name",
            "outcome",
            "status",
            "n_treated",
            "n_matched",
            "effect",
            "ci_low",
            "ci_high",
            "naive_difference",
        ],
        kinds={"outcome": "text", **dict.fromkeys(numbers, "signed")},
    )
