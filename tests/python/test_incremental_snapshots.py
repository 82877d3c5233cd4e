"""Incremental snapshot models (macros/incremental_snapshots.sql) give the full refresh's rows.

A build at one as_of date, then, 40 days later, a build after loads that reach back into the
history: late events for an old month, goal measurements and NPS answers recorded long ago but
delivered only now, and a corrected goal. The incremental run must equal --full-refresh row for
row, while recomputing only the recent dates and the changed accounts.
"""

from __future__ import annotations

import csv
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_outcomes.config import Settings
from customer_outcomes.dbt import run_dbt
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.load import load_landing

SPEC = DemoSpec(accounts=40, days=400, seed=23, end_date=date(2026, 5, 31))
FIRST_AS_OF = SPEC.end_date - timedelta(days=40)
MODELS = {
    "int_goal_attainment_snapshots": "intermediate",
    "int_account_value_realization_snapshots": "intermediate",
    "int_account_customer_view_snapshots": "intermediate",
    "int_account_weeks_in_force": "intermediate",
    "int_account_health_components": "intermediate",
    "int_account_feature_first_use": "intermediate",
    "fct_feature_usage_alerts": "marts",
    "fct_account_health": "marts",
    "fct_success_gaps_weekly": "marts",
    "int_account_arr_monthly": "intermediate",
    "int_account_arr_movements": "intermediate",
}
SELECT = ["-s", *[f"+{m}" for m in MODELS]]
CORRECTED_GOAL_TARGET = "123456.00"


def _hold_back(path: Path, every: int) -> list[dict]:
    """Remove every n-th row of a landing file; return the removed rows."""
    with path.open() as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    _write(path, fields, [r for i, r in enumerate(rows) if i % every])
    return [r for i, r in enumerate(rows) if not i % every]


def _hold_back_after(folder: Path, day: date) -> list[dict]:
    """Remove the events after `day` (they have not happened yet at the first build)."""
    held = []
    for path in sorted(folder.glob("*.csv")):
        with path.open() as fh:
            reader = csv.DictReader(fh)
            fields, rows = reader.fieldnames, list(reader)
        _write(path, fields, [r for r in rows if r["occurred_at"][:10] <= day.isoformat()])
        held += [r for r in rows if r["occurred_at"][:10] > day.isoformat()]
    return held


def _hold_back_renewal(landing: Path) -> list[dict]:
    """Remove one renewal contract that started in 2025 and was not cancelled (it arrives
    late: its account's ARR of months long past changes); return it."""
    with (landing / "cancellations" / "cancellations.csv").open() as fh:
        cancelled = {r["contract_id"] for r in csv.DictReader(fh)}
    path = landing / "contracts" / "contracts.csv"
    with path.open() as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    late = next(
        r
        for r in rows
        if not r["contract_id"].endswith("_01")
        and "2025-01-01" <= r["start_date"] < "2025-10-01"
        and r["contract_id"] not in cancelled
    )
    _write(path, fields, [r for r in rows if r is not late])
    return [late]


def _write(path: Path, fields, rows) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _rows(settings) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return {
            model: con.execute(f"select * from {schema}.{model} order by all").fetchall()
            for model, schema in MODELS.items()
        }
    finally:
        con.close()


def _build(settings, as_of: date, *extra, **more_vars) -> dict[str, list[tuple]]:
    variables = json.dumps({"as_of_date": as_of.isoformat(), **more_vars})
    assert run_dbt(settings, ["run", *SELECT, "--vars", variables, *extra], echo=False) == 0
    return _rows(settings)


def _assert_same(actual: dict, expected: dict) -> None:
    """Per model: the rows only one side has (a readable failure instead of a huge diff)."""
    for model in MODELS:
        only_actual = sorted(set(actual[model]) - set(expected[model]))[:3]
        only_expected = sorted(set(expected[model]) - set(actual[model]))[:3]
        assert (only_actual, only_expected) == ([], []), f"{model}: {only_actual} / {only_expected}"
        assert len(actual[model]) == len(expected[model]), model


def _compiled(model: str) -> str:
    target = Path(os.environ["DBT_TARGET_PATH"])
    return next(target.glob(f"compiled/**/{model}.sql")).read_text()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The warehouse after a build at FIRST_AS_OF and a load of data held back until then."""
    tmp = tmp_path_factory.mktemp("snapshots")
    landing = tmp / "landing"
    generate(SPEC, landing, progress=lambda _: None)
    old_month = landing / "usage_events" / "usage_events_2025_11.csv"
    recent = _hold_back_after(landing / "usage_events", FIRST_AS_OF)
    held = {
        "contracts": (landing / "contracts" / "contracts.csv", _hold_back_renewal(landing)),
        "usage_events": (old_month, _hold_back(old_month, 4) + recent),
        "goal_measurements": (
            landing / "goal_measurements" / "goal_measurements.csv",
            _hold_back(landing / "goal_measurements" / "goal_measurements.csv", 7),
        ),
        "nps_responses": (
            landing / "nps_responses" / "nps_responses.csv",
            _hold_back(landing / "nps_responses" / "nps_responses.csv", 5),
        ),
    }
    mp = pytest.MonkeyPatch()
    mp.setenv("DBT_TARGET_PATH", str(tmp / "target"))
    mp.setenv("DBT_LOG_PATH", str(tmp / "logs"))
    settings = Settings(landing, tmp / "wh.duckdb", tmp / "serve.duckdb")
    load_landing(settings.warehouse, landing, progress=lambda _: None)
    assert run_dbt(settings, ["seed"], echo=False) == 0
    before = _build(settings, FIRST_AS_OF)

    # The held-back rows arrive now, with a correction of one old goal's target.
    for table, (path, rows) in held.items():
        with path.open() as fh:
            fields = csv.DictReader(fh).fieldnames
        _write(landing / table / f"{table}_late.csv", fields, rows)
    goals = landing / "customer_goals" / "customer_goals.csv"
    with goals.open() as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    old_goal = next(r for r in rows if r["created_at"] < "2025-09" and r["status"] == "active")
    old_goal |= {"target_value": CORRECTED_GOAL_TARGET, "updated_at": "2026-05-20T09:00:00Z"}
    _write(landing / "customer_goals" / "customer_goals_fix.csv", fields, [old_goal])
    load_landing(settings.warehouse, landing, progress=lambda _: None)
    yield settings, before, old_goal
    mp.undo()


def test_incremental_snapshots_equal_full_refresh_after_late_loads(history):
    settings, before, old_goal = history
    incremental = _build(settings, SPEC.end_date)

    # The run was incremental: recent dates (from the previous as_of; for the event-reading
    # models from the old month's late events) plus the changed accounts.
    goal_sql = _compiled("int_goal_attainment_snapshots")
    assert f"snapshot_date >= cast('{FIRST_AS_OF}' as date)" in goal_sql
    assert "changes.changed_at > cast(" in goal_sql
    health_sql = _compiled("int_account_health_components")
    since = re.findall(r"week_start >= cast\(\s*'(\d{4}-\d\d-\d\d)' as date", health_sql)
    assert min(since) <= "2025-11-03", "the late November events did not reach health"

    # The late rows changed history before the first as_of: the corrected goal's old
    # snapshots, old weeks' health (late events) and old customer views (late measurements).
    goal_id = old_goal["goal_id"]
    goal_rows = {
        run: {r for r in rows["int_goal_attainment_snapshots"] if r[0] == goal_id}
        for run, rows in (("before", before), ("after", incremental))
    }
    changed_dates = {r[2] for r in goal_rows["before"] - goal_rows["after"]}
    assert min(changed_dates) < FIRST_AS_OF, "the goal's correction missed its old snapshots"
    for model in (
        "int_account_health_components",
        "int_account_customer_view_snapshots",
        "int_account_arr_monthly",  # the late renewal contract
        "int_account_arr_movements",
    ):
        old_changed = {
            r for r in set(before[model]) - set(incremental[model]) if r[1] < date(2026, 1, 1)
        }
        assert old_changed, f"the late loads changed no old row of {model}"
    # The monthly ARR was recomputed from the previous as_of's month, plus changed accounts.
    arr_sql = _compiled("int_account_arr_monthly")
    assert f"months.month_start >= cast(\n            '{FIRST_AS_OF.replace(day=1)}'" in arr_sql
    assert "changes.changed_at > cast(" in arr_sql
    # New first uses (pairs first used after FIRST_AS_OF, or earlier through late events)
    # were merged into the incremental first-use table, not only new load times.
    first_use = {
        run: {r[:3] for r in rows["int_account_feature_first_use"]}
        for run, rows in (("before", before), ("after", incremental))
    }
    assert first_use["after"] - first_use["before"], "no first use was added or moved"

    _assert_same(_build(settings, SPEC.end_date, "--full-refresh"), incremental)


def test_a_rerun_and_a_changed_var(history):
    settings, *_ = history
    full = _build(settings, SPEC.end_date, "--full-refresh")
    _assert_same(_build(settings, SPEC.end_date), full)
    # A var the models read recomputes everything, as a full refresh with it would.
    changed = _build(settings, SPEC.end_date, goal_on_track_tolerance=0.3)
    assert changed != full
    assert "snapshot_date >= cast(" not in _compiled("int_goal_attainment_snapshots")
    full = _build(settings, SPEC.end_date, "--full-refresh", goal_on_track_tolerance=0.3)
    _assert_same(full, changed)


def test_every_var_the_snapshot_models_read_is_fingerprinted():
    root = Path(__file__).resolve().parents[2]
    sources = [next(root.glob(f"models/**/{model}.sql")) for model in MODELS]
    macros = ("health.sql", "reweighted_mean.sql", "nps.sql", "success_gap.sql")
    sources += [root / "macros" / name for name in macros]
    read = set()
    for source in sources:
        read |= set(re.findall(r"var\('(\w+)'", source.read_text()))
    listed = re.search(
        r"macro snapshot_input_vars\(\).*?\[(.*?)\]",
        (root / "macros" / "incremental_snapshots.sql").read_text(),
        re.S,
    )
    assert read - {"usage_lookback_days"} <= set(re.findall(r"'(\w+)'", listed.group(1)))


def _test_sql(model: str) -> str:
    """The compiled uniqueness test of `model` in the last run."""
    results = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    prefix = f"test.customer_outcomes.unique_combination_of_columns_{model}_"
    return next(r["compiled_code"] for r in results["results"] if r["unique_id"].startswith(prefix))


def _duplicate_one(settings, table: str, where: str) -> tuple:
    """Insert a copy of one row of `table` matching `where`; returns that row."""
    con = duckdb.connect(str(settings.warehouse))
    try:
        row = con.execute(f"select * from {table} where {where} order by all limit 1").fetchone()
        assert row is not None, f"no row of {table} where {where}"
        con.execute(f"insert into {table} select * from {table} where {where} order by all limit 1")
        return row
    finally:
        con.close()


def _undo_duplicates(settings, table: str, key: list[str]) -> None:
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(f"create temp table kept as select distinct * from {table}")
        con.execute(f"delete from {table}")
        con.execute(f"insert into {table} select * from kept")
        dupes = con.execute(
            f"select count(*) from (select {', '.join(key)} from {table} "
            f"group by all having count(*) > 1)"
        ).fetchone()[0]
        assert dupes == 0
    finally:
        con.close()


def test_an_incremental_build_tests_the_rows_it_rewrote(history):
    """The uniqueness tests of the incremental models check, in an incremental `dbt build`,
    the rows that build rewrote (where: __rebuilt_rows__), and everything under `dbt test`."""
    settings, *_ = history
    first = SPEC.end_date - timedelta(days=14)
    _build(settings, first, "--full-refresh")
    # Late events for one old day (new ids), so the event model rewrites that day's week.
    late_day = date(2026, 1, 14)
    late = []
    for path in sorted((settings.landing / "usage_events").glob("*.csv")):
        with path.open() as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames
            late += [r for r in reader if r["occurred_at"][:10] == late_day.isoformat()][:20]
    assert late
    for r in late:
        r["event_id"] = "late-" + r["event_id"]
    _write(settings.landing / "usage_events" / "usage_events_late_jan.csv", fields, late)
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)

    variables = json.dumps({"as_of_date": SPEC.end_date.isoformat()})
    goals, weeks = "int_goal_attainment_snapshots", "int_usage_events_aggregated_to_account_weeks"
    build = ["build", "-s", f"+{goals}", f"+{weeks}", "--indirect-selection", "cautious"]
    build += ["--exclude-resource-type", "unit_test"]
    assert run_dbt(settings, [*build, "--vars", variables], echo=False) == 0
    goal_test, weeks_test = _test_sql(goals), _test_sql(weeks)
    assert f"snapshot_date >= cast(\n            '{first}' as date" in goal_test
    assert "changes.changed_at > cast(" in goal_test
    late_week = late_day - timedelta(days=late_day.weekday())
    assert f"week_start >= cast('{late_week}' as date)" in weeks_test
    assert f"cast('{late_week}' as date)\n" in weeks_test.split("week_start in (")[1]

    def scoped_test(model):  # the model's tests as an incremental build runs them
        args = ["build", "-s", model, "--resource-type", "test", "--vars", variables]
        return run_dbt(settings, args, echo=False)

    def whole_test(model):
        return run_dbt(settings, ["test", "-s", model, "--vars", variables], echo=False)

    # A duplicate among rows the build did not touch: that build's tests pass (an earlier
    # build checked those rows), `dbt test` finds it.
    untouched_goal = (
        f"snapshot_date < '{first}' and account_id not in ("
        " select account_id from intermediate.int_account_input_changes where changed_at > ("
        "  select scope_changed_after from intermediate._snapshot_build_state"
        f"  where model_name = '{goals}'))"
    )
    for model, table, where, key in (
        (goals, f"intermediate.{goals}", untouched_goal, ["goal_id", "snapshot_date"]),
        (weeks, f"intermediate.{weeks}", "week_start < '2025-12-01'", ["account_id", "week_start"]),
    ):
        _duplicate_one(settings, table, where)
        assert scoped_test(model) == 0, model
        assert whole_test(model) != 0, model
        _undo_duplicates(settings, table, key)
    # A duplicate among the rows the build rewrote fails the build's own tests.
    for model, table, where, key in (
        (
            goals,
            f"intermediate.{goals}",
            f"snapshot_date = '{SPEC.end_date}'",
            ["goal_id", "snapshot_date"],
        ),
        (
            weeks,
            f"intermediate.{weeks}",
            f"week_start = '{late_week}'",
            ["account_id", "week_start"],
        ),
    ):
        _duplicate_one(settings, table, where)
        assert scoped_test(model) != 0, model
        _undo_duplicates(settings, table, key)
    assert scoped_test(goals) == 0 and scoped_test(weeks) == 0
