"""Whether plays work, against the demo generator's hidden truth, and the CSM worklist.

The estimates need more plays than the shared 400-account build has (there most rows are
too_few): a world of 2,000 accounts over 400 days, built up to fct_play_effectiveness."""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest

from customer_outcomes.config import Settings
from customer_outcomes.dbt import run_dbt, scoped_env
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.load import load_landing

pytestmark = pytest.mark.slow

OUTCOMES = {"renewal": "true_effect_renewal", "goal_progress": "true_effect_goal_progress"}
AS_OF = "2026-06-30"
PLAY_WORLD = DemoSpec(accounts=2000, days=400, seed=42, end_date=date.fromisoformat(AS_OF))


@pytest.fixture(scope="module")
def play_world(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("plays")
    settings = Settings(root / "landing", root / "warehouse.duckdb", root / "serve.duckdb")
    generate(PLAY_WORLD, settings.landing, progress=lambda _: None)
    results = load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert all(r.status == "loaded" for r in results)
    env = {"DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
    with scoped_env(env):
        # The models and seeds upstream; their data tests run on the shared build.
        args = ["build", "--select", "+fct_play_effectiveness"]
        args += ["--exclude-resource-type", "test", "unit_test"]
        code = run_dbt(settings, args, as_of=AS_OF, echo=False)
    assert code == 0, f"dbt build failed; see {root / 'logs'}"
    return settings


@pytest.fixture(scope="module")
def truth(play_world) -> dict[str, dict[str, float]]:
    path = play_world.landing / "_truth" / "play_effects.csv"
    return {
        row["play_key"]: {outcome: float(row[column]) for outcome, column in OUTCOMES.items()}
        for row in csv.DictReader(path.open())
    }


@pytest.fixture(scope="module")
def estimates(play_world) -> list[dict]:
    """The estimates over every segment ('all') of the outcomes the truth knows, with it."""
    with duckdb.connect(str(play_world.warehouse), read_only=True) as con:
        frame = con.execute(
            """select play_key, outcome, status, n_matched, effect, ci_low, ci_high,
                naive_difference
            from marts.fct_play_effectiveness
            where segment = 'all' and outcome in ('renewal', 'goal_progress')
            order by play_key, outcome"""
        ).df()
    return frame.to_dict("records")


def _estimated(estimates, truth) -> list[dict]:
    rows = [
        {**r, "truth": truth[r["play_key"]][r["outcome"]]} for r in estimates if r["status"] == "ok"
    ]
    for row in rows:
        row["noise"] = row["ci_high"] - row["effect"]  # 1.96 standard errors
    return rows


def test_the_matched_estimate_recovers_the_sign_of_every_effect_above_the_noise(estimates, truth):
    above = [r for r in _estimated(estimates, truth) if abs(r["truth"]) > r["noise"]]
    # Renewal rescue's renewal and goal effects are above the noise at this size.
    assert {(r["play_key"], r["outcome"]) for r in above} >= {
        ("renewal_rescue", "renewal"),
        ("renewal_rescue", "goal_progress"),
    }, above
    wrong = [r for r in above if (r["effect"] > 0) != (r["truth"] > 0)]
    assert wrong == []


def test_the_matched_estimate_lands_closer_to_the_truth_than_the_naive_difference(estimates, truth):
    """Over the estimated effects of plays that work: the naive difference compares the
    accounts CSMs chose (the ones that look worst) with all the others."""
    rows = [r for r in _estimated(estimates, truth) if r["truth"] != 0]
    assert len(rows) >= 2
    matched = sum(abs(r["effect"] - r["truth"]) for r in rows)
    naive = sum(abs(r["naive_difference"] - r["truth"]) for r in rows)
    assert matched < naive, rows


def test_the_play_with_no_effect_is_not_reported_as_significant(estimates, truth):
    null = [play for play, effects in truth.items() if not any(effects.values())]
    assert null == ["detractor_follow_up"]
    rows = [r for r in estimates if r["play_key"] in null]
    assert [r["status"] for r in rows] == ["ok", "ok"], rows
    for row in rows:
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
