"""The demo generator: contract layout, determinism, and the planted story."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from customer_outcomes.contract import TABLES
from customer_outcomes.demo import DemoSpec, generate

TINY = DemoSpec(accounts=25, days=120, seed=3, end_date=date(2026, 3, 31))


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_output(tmp_path):
    generate(TINY, tmp_path / "a", progress=lambda _: None)
    generate(TINY, tmp_path / "b", progress=lambda _: None)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b
    assert len(a) > len(TABLES)


def test_another_seed_gives_other_data(tmp_path):
    generate(TINY, tmp_path / "a", progress=lambda _: None)
    other = DemoSpec(TINY.accounts, TINY.days, TINY.seed + 1, TINY.end_date)
    generate(other, tmp_path / "b", progress=lambda _: None)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_every_contract_table_is_written_with_its_columns(small_landing):
    for name, table in TABLES.items():
        if name == "usage_daily":  # the demo delivers its usage as events
            continue
        files = sorted((small_landing / name).glob("*.csv"))
        assert files, f"no landing file for {name}"
        with files[0].open() as fh:
            assert next(csv.reader(fh)) == table.column_names


def test_truth_is_kept_apart_from_the_tables(small_landing):
    truth = small_landing / "_truth" / "accounts.csv"
    rows = list(csv.DictReader(truth.open()))
    cohorts = {r["cohort"] for r in rows}
    assert {"usage_trap", "quiet_success", "normal"} <= cohorts
    assert "cohort" not in TABLES["accounts"].column_names


def test_plays_run_on_the_accounts_that_look_worst(small_landing):
    """Plays follow triggers, so the accounts CSMs treat realize less value than the untreated
    ones, renewal rescues (after a "no" or "not sure") by far: the confounding the
    effectiveness mart must see through. Every activity's trigger is its play's; the truth
    names each play once, the one with no effect at 0."""
    value = {
        r["account_id"]: float(r["latent_value"])
        for r in csv.DictReader((small_landing / "_truth" / "accounts.csv").open())
    }
    path = small_landing / "cs_activities" / "cs_activities.csv"
    activities = list(csv.DictReader(path.open()))
    untreated = set(value) - {a["account_id"] for a in activities}
    rescued = {a["account_id"] for a in activities if a["play_key"] == "renewal_rescue"}
    assert len(untreated) > 10 and len(rescued) > 10

    def mean(values):
        values = list(values)
        return sum(values) / len(values)

    baseline = mean(value[i] for i in untreated)
    assert mean(value[i] for i in rescued) < baseline - 0.05
    assert mean(value[a["account_id"]] for a in activities) < baseline
    triggers = {(a["play_key"], a["trigger_type"]) for a in activities}
    assert triggers == {
        ("renewal_rescue", "intent_negative"),
        ("adoption_check_in", "feature_use_fell_off"),
        ("detractor_follow_up", "detractor_response"),
    }
    effects = list(csv.DictReader((small_landing / "_truth" / "play_effects.csv").open()))
    assert sorted(e["play_key"] for e in effects) == sorted(k for k, _ in triggers)
    null = next(e for e in effects if e["play_key"] == "detractor_follow_up")
    assert float(null["true_effect_renewal"]) == float(null["true_effect_goal_progress"]) == 0
    rescue = next(e for e in effects if e["play_key"] == "renewal_rescue")
    assert float(rescue["true_effect_renewal"]) > 0.05


@pytest.fixture(scope="module")
def events(small_landing):
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    glob = str(small_landing / "usage_events" / "*.csv")
    con.execute(f"create table ev as select * from read_csv('{glob}', all_varchar = true)")
    yield con
    con.close()


def test_about_one_percent_of_events_are_duplicates(events):
    total, distinct = events.execute("select count(*), count(distinct event_id) from ev").fetchone()
    share = 1 - distinct / total
    assert 0.005 < share < 0.02


def test_some_events_arrive_days_late(events):
    late = events.execute(
        """select count(*) from ev
        where cast(received_at as timestamptz) - cast(occurred_at as timestamptz)
              > interval 1 day"""
    ).fetchone()[0]
    total = events.execute("select count(*) from ev").fetchone()[0]
    assert 0.005 < late / total < 0.05


def test_weekends_are_quieter_than_weekdays(events):
    weekday, weekend = events.execute(
        """select
            count(*) filter (where isodow(cast(occurred_at as timestamp)) <= 5) / 5.0,
            count(*) filter (where isodow(cast(occurred_at as timestamp)) > 5) / 2.0
        from ev"""
    ).fetchone()
    assert weekend < 0.5 * weekday


def test_usage_trap_accounts_are_busier_than_quiet_success_accounts(small_landing, events):
    """The planted story: per user and active day, trap accounts use the product far more."""
    truth = {
        r["account_id"]: r["cohort"]
        for r in csv.DictReader((small_landing / "_truth" / "accounts.csv").open())
    }
    rate = dict(
        events.execute(
            """select account_id,
                count(*) / (count(distinct user_id)
                    * (date_diff('day', min(occurred_at::date), max(occurred_at::date)) + 1))
            from ev group by 1"""
        ).fetchall()
    )

    def mean_rate(cohort):
        rates = [rate[a] for a, c in truth.items() if c == cohort and a in rate]
        return sum(rates) / len(rates)

    assert mean_rate("usage_trap") > 2 * mean_rate("quiet_success")
