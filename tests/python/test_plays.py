"""Whether plays work, against the demo generator's hidden truth, and the CSM worklist."""

from __future__ import annotations

import csv

import pytest

OUTCOMES = {"renewal": "true_effect_renewal", "goal_progress": "true_effect_goal_progress"}


@pytest.fixture(scope="module")
def truth(small_landing) -> dict[str, dict[str, float]]:
    path = small_landing / "_truth" / "play_effects.csv"
    return {
        row["play_key"]: {outcome: float(row[column]) for outcome, column in OUTCOMES.items()}
        for row in csv.DictReader(path.open())
    }


@pytest.fixture(scope="module")
def estimates(built) -> list[dict]:
    import duckdb

    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        frame = con.execute(
            """select play_key, outcome, status, n_matched, effect, ci_low, ci_high,
                naive_difference
            from marts.fct_play_effectiveness where segment = 'all'"""
        ).df()
    finally:
        con.close()
    return frame.to_dict("records")


def test_the_play_with_no_effect_is_not_reported_as_significant(truth, estimates):
    null = [play for play, effects in truth.items() if not any(effects.values())]
    assert null == ["detractor_follow_up"]
    rows = [r for r in estimates if r["play_key"] in null and r["outcome"] in OUTCOMES]
    # Estimated on enough matches to say something (var play_min_matched is 30; here about 20
    # for renewal and 30 for goal progress).
    assert max(r["n_matched"] for r in rows) >= 20
    for row in rows:
        if row["status"] == "ok":
            assert row["ci_low"] <= 0 <= row["ci_high"], row


def test_the_worklist_fits_each_queue_and_shows_plays_in_progress(read_only):
    """Each queue holds at most var csm_weekly_capacity (8) accounts besides its plays in
    progress, every account once; an account with an open activity is in progress, never
    new; the worklist is a small share of the accounts with an open trigger."""
    over = read_only.execute(
        """select queue from marts.fct_csm_worklist
        group by queue having count(*) filter (where status = 'new')
            + count(*) filter (where status = 'in_progress') > greatest(
                8, count(*) filter (where status = 'in_progress'))"""
    ).fetchall()
    assert over == []
    open_but_new = read_only.execute(
        """select count(*) from marts.fct_csm_worklist as w
        where w.status = 'new' and exists (
            select 1 from staging.stg_success__cs_activities as a
            where a.account_id = w.account_id and a.is_open
                and cast(a.opened_at as date) <= date '2026-06-30')"""
    ).fetchone()[0]
    assert open_but_new == 0
    listed, triggered = read_only.execute(
        """select (select count(*) from marts.fct_csm_worklist where status = 'new'),
            (select count(distinct account_id) from marts.fct_intervention_queue)"""
    ).fetchone()
    assert 0 < listed < triggered / 2
