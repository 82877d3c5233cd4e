"""Usage, health, goals and success gaps on the demo data (issue: success gaps)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_outcomes.config import Settings
from customer_outcomes.dbt import run_dbt
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.load import load_landing


def _truth(landing) -> dict[str, str]:
    with (landing / "_truth" / "accounts.csv").open() as fh:
        return {r["account_id"]: r["cohort"] for r in csv.DictReader(fh)}


def _precision_recall(rows, truth) -> tuple[float, float, int, int]:
    predicted = {a for a, g in rows if g == "usage_trap"}
    planted = {a for a, _ in rows if truth[a] == "usage_trap"}
    hits = len(predicted & planted)
    return hits / max(1, len(predicted)), hits / max(1, len(planted)), len(predicted), len(planted)


def test_planted_usage_traps_are_found(read_only, small_landing):
    """fct_success_gaps finds the generator's usage-trap accounts without reading the labels.

    Population: current customers whose goals have a measurement. A trap needs both views; for
    an account without a measured goal the customer's view of its goals is unknown and the
    mart says so (no_goals) instead of guessing. Both figures are printed.
    """
    truth = _truth(small_landing)
    rows = read_only.execute("select account_id, gap_type from marts.fct_success_gaps").fetchall()
    measured = [(a, g) for a, g in rows if g != "no_goals"]
    for name, population in (("all current customers", rows), ("with measured goals", measured)):
        p, r, n_pred, n_planted = _precision_recall(population, truth)
        print(
            f"usage_trap, {name}: precision {p:.2f}, recall {r:.2f} "
            f"({n_pred} flagged, {n_planted} planted, {len(population)} accounts)"
        )
    precision, recall, _, planted = _precision_recall(measured, truth)
    assert planted >= 10
    assert precision >= 0.8
    assert recall >= 0.8


def test_quiet_success_accounts_are_not_called_traps(read_only, small_landing):
    truth = _truth(small_landing)
    rows = read_only.execute("select account_id, gap_type from marts.fct_success_gaps").fetchall()
    quiet = [g for a, g in rows if truth[a] == "quiet_success"]
    assert quiet and quiet.count("usage_trap") == 0
    assert quiet.count("quiet_success") / len(quiet) >= 0.6


def test_every_attainment_status_occurs_and_unknown_is_never_scored(read_only):
    statuses = dict(
        read_only.execute(
            "select attainment_status, count(*) from marts.fct_goal_attainment group by 1"
        ).fetchall()
    )
    # not_started needs a reading exactly at baseline: rare in generated data, unit-tested.
    assert set(statuses) >= {"achieved", "partial", "regressed", "unknown"}
    scored_unknown = read_only.execute(
        """select count(*) from marts.fct_goal_attainment
        where attainment_status = 'unknown' and attainment_pct is not null"""
    ).fetchone()[0]
    assert scored_unknown == 0
    no_goal_accounts = read_only.execute(
        """select count(*), count(weighted_attainment_pct)
        from marts.fct_account_value_realization where goals_total = 0"""
    ).fetchone()
    assert no_goal_accounts[0] > 0 and no_goal_accounts[1] == 0


def test_every_trigger_type_occurs_with_a_play(read_only):
    triggers = {
        r[0]
        for r in read_only.execute(
            """select distinct trigger_type from marts.fct_intervention_queue
            where play_name is not null"""
        ).fetchall()
    }
    # Detractors are unit-tested: the demo's NPS surveys (March, September) are more than
    # 90 days before the test's as-of date (2026-06-30).
    assert triggers >= {
        "goal_off_track_high_usage",
        "feature_use_fell_off",
        "red_health",
        "intent_negative",
        "no_goals_recorded",
    }


def test_health_history_has_a_row_per_account_week_in_force(read_only):
    bad = read_only.execute(
        """select count(*) from marts.fct_account_health
        where health_score is not null and (health_score < 0 or health_score > 100)"""
    ).fetchone()[0]
    assert bad == 0
    current = read_only.execute("select count(*) from marts.fct_success_gaps").fetchone()[0]
    latest_week = read_only.execute(
        """select count(*) from marts.fct_account_health
        where week_start = (select max(week_start) from marts.fct_account_health)"""
    ).fetchone()[0]
    assert latest_week >= 0.9 * current


# --- incremental usage model -------------------------------------------------------------

LATE = DemoSpec(accounts=30, days=150, seed=5, end_date=date(2026, 5, 31))


INCREMENTAL = {
    "marts.fct_account_usage_daily": """account_id, usage_date, active_users, sessions,
        feature_events, distinct_features, distinct_core_features""",
    "intermediate.int_usage_events_aggregated_to_account_weeks": """account_id, week_start,
        weekly_active_users, user_active_days, sessions, feature_events""",
    "marts.fct_feature_adoption_weekly": """account_id, feature_key, week_start,
        is_complete_week, active_users, feature_events""",
}


def _usage_rows(warehouse, tables=tuple(INCREMENTAL)) -> dict[str, list[tuple]]:
    """The incremental event models' rows (without the load-time bookkeeping column)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            table: con.execute(f"select {INCREMENTAL[table]} from {table} order by all").fetchall()
            for table in tables
        }
    finally:
        con.close()


@pytest.fixture
def late_setup(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generate(LATE, landing, progress=lambda _: None)
    # Hold back a fifth of March's events: they arrive later, weeks late.
    march = landing / "usage_events" / "usage_events_2026_03.csv"
    lines = march.read_text().splitlines()
    header, body = lines[0], lines[1:]
    kept = [line for i, line in enumerate(body) if i % 5]
    late = [line for i, line in enumerate(body) if not i % 5]
    march.write_text("\n".join([header, *kept]) + "\n")
    held = tmp_path / "held_back.csv"
    held.write_text("\n".join([header, *late]) + "\n")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    settings = Settings(landing, tmp_path / "wh.duckdb", tmp_path / "serve.duckdb")
    return settings, held


def _build_usage(settings, *extra) -> None:
    models = [f"+{table.split('.')[1]}" for table in INCREMENTAL]
    args = ["run", "-s", *models, *extra]
    assert run_dbt(settings, args, as_of=LATE.end_date.isoformat(), echo=False) == 0


def test_incremental_run_after_late_events_equals_full_refresh(late_setup):
    settings, held = late_setup
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    _build_usage(settings)
    before = _usage_rows(settings.warehouse)

    shutil.copy(held, settings.landing / "usage_events" / "usage_events_late.csv")
    results = load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert [r.status for r in results if r.file.endswith("late.csv")] == ["loaded"]
    _build_usage(settings)
    incremental = _usage_rows(settings.warehouse)
    # The run recomputed exactly the late events' days and the lookback days.
    compiled = Path(os.environ["DBT_TARGET_PATH"]).glob("compiled/**/fct_account_usage_daily.sql")
    days = set(re.findall(r"cast\('(\d{4}-\d\d-\d\d)' as date\)", next(compiled).read_text()))
    late_days = duckdb.sql(
        f"select distinct cast(cast(occurred_at as timestamp) as date)::varchar from '{held}'"
    ).fetchall()
    lookback = {str(LATE.end_date - timedelta(days=d)) for d in range(4)}
    assert days == {d for (d,) in late_days} | lookback
    for table in INCREMENTAL:
        assert incremental[table] != before[table], f"the late events changed nothing in {table}"

    _build_usage(settings)
    assert _usage_rows(settings.warehouse) == incremental, "a re-run changed the rows"

    _build_usage(settings, "--full-refresh")
    assert _usage_rows(settings.warehouse) == incremental


def _plant_unknown_account_event(warehouse, event_id: str, day: str, loaded_at: str) -> None:
    """An event of an account that does not exist, written straight into raw (the loader
    would quarantine it), so only the relationships test on the staged deliveries can catch
    it."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            f"""insert into raw.usage_events
            select * replace (
                '{event_id}' as event_id, 'acc_nobody' as account_id,
                timestamp '{day} 12:00:00' as occurred_at,
                timestamp '{day} 12:00:05' as received_at,
                {loaded_at} as _loaded_at
            )
            from raw.usage_events limit 1"""
        )
    finally:
        con.close()


def _event_test_results(target: Path) -> tuple[dict[str, int], set[str]]:
    """Failures of the staged-event tests by name (the events' and their deliveries'), and
    the event dates the unique test on event_id was limited to (empty: the whole history)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    failures = {
        r["unique_id"].split(".")[2]: r["failures"]
        for r in results
        if r["unique_id"].startswith("test.") and "stg_product__usage_event" in r["unique_id"]
    }
    unique_sql = next(target.glob("run/**/unique_stg_product__usage_events_event_id.sql"))
    dates = set(re.findall(r"cast\('(\d{4}-\d\d-\d\d)' as date\)", unique_sql.read_text()))
    return failures, dates


def _new_loads_bound(target: Path) -> str | None:
    """The load time the references test on the staged deliveries was limited to (rows
    loaded after it), None when it read every delivery."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    name = "test.customer_outcomes.relationships_stg_product__usage_event_deliveries_account_id"
    sql = next(r["compiled_code"] for r in results if r["unique_id"].startswith(name))
    bound = re.search(r"loaded_at > cast\('([^']+)' as timestamp\)", sql)
    return bound.group(1) if bound else None


def test_an_incremental_build_tests_the_events_it_recomputes_and_dbt_test_all(late_setup):
    settings, held = late_setup
    target = Path(os.environ["DBT_TARGET_PATH"])
    relationships = (
        "relationships_stg_product__usage_event_deliveries_account_id__account_id__ref_stg_crm__"
        "accounts_"
    )
    events = ["stg_product__usage_events", "stg_product__usage_event_deliveries"]
    select = ["-s", "+fct_account_usage_daily", *events, "stg_crm__accounts"]
    select += ["stg_product__users"]
    select += ["--indirect-selection", "cautious"]
    as_of = LATE.end_date.isoformat()
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert run_dbt(settings, ["build", *select], as_of=as_of, echo=False) == 0
    assert _event_test_results(target)[1] == set(), "a first build tests the whole history"
    assert _new_loads_bound(target) is None
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        sql = "select max(last_loaded_at) from marts.fct_account_usage_daily"
        first_build_saw = con.execute(sql).fetchone()[0]
    finally:
        con.close()

    # A bad event already in the history, loaded before that build (as if a check had been
    # switched off): the incremental build does not re-read its day, `dbt test` does.
    _plant_unknown_account_event(
        settings.warehouse,
        "evt_old_bad",
        "2026-02-10",
        "(select min(_loaded_at) from raw.usage_events)",
    )
    shutil.copy(held, settings.landing / "usage_events" / "usage_events_late.csv")
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert run_dbt(settings, ["build", *select], as_of=as_of, echo=False) == 0
    failures, dates = _event_test_results(target)
    late_days = duckdb.sql(
        f"select distinct cast(cast(occurred_at as timestamp) as date)::varchar from '{held}'"
    ).fetchall()
    lookback = {str(LATE.end_date - timedelta(days=d)) for d in range(4)}
    assert dates == {d for (d,) in late_days} | lookback
    assert failures[relationships] == 0
    # The references are checked on the deliveries loaded since the first build only.
    assert datetime.fromisoformat(_new_loads_bound(target)) == first_build_saw

    assert run_dbt(settings, ["test", "-s", *events], as_of=as_of, echo=False) == 1
    failures, dates = _event_test_results(target)
    assert (failures[relationships], dates) == (1, set())
    assert _new_loads_bound(target) is None

    # A bad event that arrives now, late, for a day the build recomputes: caught at once.
    _plant_unknown_account_event(settings.warehouse, "evt_new_bad", "2026-03-20", "now()")
    assert run_dbt(settings, ["build", *select], as_of=as_of, echo=False) == 1
    failures, dates = _event_test_results(target)
    assert failures[relationships] == 1 and "2026-03-20" in dates and "2026-02-10" not in dates

    # The weekly --full-refresh tests the whole history again: both bad events.
    assert run_dbt(settings, ["build", *select, "--full-refresh"], as_of=as_of, echo=False) == 1
    failures, dates = _event_test_results(target)
    assert (failures[relationships], dates) == (2, set())


def test_a_redelivery_with_other_content_fails_the_build_before_the_event_models(late_setup):
    """The event models de-duplicate by grouping the deliveries on their content, which holds
    only if every delivery of an event has the same content (the loader quarantines any other).
    A re-delivery that differs, written straight into raw, fails the deliveries' test, and the
    models that would have counted it twice are skipped, their rows left as they were."""
    settings, _ = late_setup
    select = ["-s", "+fct_account_usage_daily", "--indirect-selection", "cautious"]
    as_of = LATE.end_date.isoformat()
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert run_dbt(settings, ["build", *select], as_of=as_of, echo=False) == 0
    daily = ("marts.fct_account_usage_daily",)
    before = _usage_rows(settings.warehouse, daily)

    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            """insert into raw.usage_events
            select * replace ('usr_somebody_else' as user_id, now() as _loaded_at)
            from raw.usage_events
            where event_name = 'session_start'
            order by occurred_at desc
            limit 1"""
        )
    finally:
        con.close()
    assert run_dbt(settings, ["build", *select], as_of=as_of, echo=False) == 1
    results = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    status = {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results["results"]
    }
    test = next(n for n in status if n.startswith("same_content_per_key_stg_product__usage_event"))
    assert status[test] == ("fail", 1)
    assert status["fct_account_usage_daily"][0] == "skipped"
    assert _usage_rows(settings.warehouse, daily) == before


WINDOWS = DemoSpec(accounts=60, days=500, seed=11, end_date=date(2026, 5, 31))
WINDOW_COLUMNS = """contract_id, account_id, cutoff_date, active_users_7d, user_days_7d,
    user_days_28d, user_days_prior_28d, events_28d, core_features_28d"""


def _windows(settings, *extra) -> list[tuple]:
    args = ["run", "-s", "+int_renewal_usage_windows", *extra]
    assert run_dbt(settings, args, as_of=WINDOWS.end_date.isoformat(), echo=False) == 0
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        sql = f"select {WINDOW_COLUMNS} from intermediate.int_renewal_usage_windows order by all"
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_renewal_usage_windows_incremental_equals_full_refresh(tmp_path, monkeypatch):
    """Late events for every month (so inside closed renewals' windows, long before their
    cut-offs) reach the incremental renewal windows; a run without new loads recomputes only
    the renewals with a cut-off in the lookback (and the pending ones); --full-refresh agrees."""
    landing = tmp_path / "landing"
    generate(WINDOWS, landing, progress=lambda _: None)
    held = []
    for month in sorted((landing / "usage_events").glob("*.csv")):
        header, *body = month.read_text().splitlines()
        month.write_text("\n".join([header, *[x for i, x in enumerate(body) if i % 6]]) + "\n")
        held += [x for i, x in enumerate(body) if not i % 6]
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    settings = Settings(landing, tmp_path / "wh.duckdb", tmp_path / "serve.duckdb")
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    before = _windows(settings)
    closed = [r for r in before if r[2] < WINDOWS.end_date]
    assert closed, "the data has no closed renewal: the test would not reach old windows"

    late = landing / "usage_events" / "usage_events_late.csv"
    late.write_text("\n".join([header, *held]) + "\n")
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    incremental = _windows(settings)
    changed = {r[0] for r in set(incremental) - set(before)}
    assert changed & {r[0] for r in closed}, "late events changed no closed renewal's windows"

    # No new load: only the lookback's cut-offs (and the pending renewals, cut off today).
    assert _windows(settings) == incremental
    compiled = next((tmp_path / "target").glob("compiled/**/int_renewal_usage_windows.sql"))
    bound = str(WINDOWS.end_date - timedelta(days=3))
    assert f"cutoff_date >= cast('{bound}' as date)" in compiled.read_text()

    assert _windows(settings, "--full-refresh") == incremental
