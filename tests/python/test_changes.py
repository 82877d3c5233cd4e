"""Daily builds rebuild what changed since the last build (changes.py), and leave the warehouse
exactly as a build of every node does."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import AS_OF, BUILT_TARGET

from customer_outcomes import changes
from customer_outcomes.bench import append_day
from customer_outcomes.config import Settings
from customer_outcomes.dbt import run_dbt
from customer_outcomes.load import ensure_raw_schema, load_landing

# A project in small: two sources; a macro that calls as_of_date(); a model that calls that
# macro, with a mart below it; a test; a seed.
P = "customer_outcomes"
MACROS = {
    f"macro.{P}.as_of_date": [],
    f"macro.{P}.renewal_window": [f"macro.{P}.as_of_date"],
    "macro.dbt.is_incremental": [],
}
NODES = {  # unique_id: (parents, macros)
    f"seed.{P}.weights": ([], []),
    f"model.{P}.stg_events": ([f"source.{P}.product.usage_events"], []),
    f"model.{P}.stg_nps": ([f"source.{P}.surveys.nps_responses"], []),
    f"model.{P}.fct_usage": ([f"model.{P}.stg_events"], ["macro.dbt.is_incremental"]),
    f"model.{P}.fct_nps": ([f"model.{P}.stg_nps", f"seed.{P}.weights"], []),
    f"model.{P}.windows": ([f"model.{P}.stg_nps"], [f"macro.{P}.renewal_window"]),
    f"model.{P}.mart_renewals": ([f"model.{P}.windows"], []),
    f"test.{P}.not_null_fct_nps_score": ([f"model.{P}.fct_nps"], []),
}


def _manifest() -> dict:
    parents = {uid: list(p) for uid, (p, _) in NODES.items()}
    children: dict[str, list[str]] = {}
    for uid, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(uid)
    sources = {
        f"source.{P}.{system}.{table}": {
            "schema": "raw",
            "identifier": table,
            "source_name": system,
        }
        for system, table in (("product", "usage_events"), ("surveys", "nps_responses"))
    }
    return {
        "macros": {m: {"depends_on": {"macros": d}} for m, d in MACROS.items()},
        "sources": sources,
        "nodes": {
            uid: {
                "name": uid.split(".")[-1],
                "resource_type": uid.split(".")[0],
                "depends_on": {"macros": m, "nodes": p},
            }
            for uid, (p, m) in NODES.items()
        },
        "parent_map": parents,
        "child_map": children,
    }


MANIFEST = _manifest()


def _names(uids) -> list[str]:
    return [u.split(".")[-1] for u in uids]


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    for name in changes.FINGERPRINT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OUTCOMES_AS_OF_DATE", raising=False)
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
    return path


def _plan(warehouse, *args, as_of=AS_OF, everything=False) -> changes.ChangePlan:
    return changes.plan_changes(
        warehouse, ["build", *args], as_of, lambda: MANIFEST, everything=everything
    )


def _build(warehouse, plan, succeeded=True) -> None:
    changes.end_build(warehouse, plan, changes.begin_build(warehouse, plan), succeeded)


def _load(warehouse, table: str, logged: bool = True) -> None:
    """A row into the raw table, as the loader adds one (with its load-log entry) or not."""
    with duckdb.connect(str(warehouse)) as con:
        columns = [r[0] for r in con.execute(f"describe raw.{table}").fetchall()]
        con.execute(f"insert into raw.{table} ({columns[0]}) values ('x{len(columns)}')")
        if logged:
            con.execute(
                "insert into raw._load_log (table_name, source_file, rows_loaded, loaded_at) "
                "values (?, 'f.csv', 1, current_timestamp::timestamp)",
                [table],
            )


def test_a_daily_build_selects_what_the_loads_and_the_date_changed(warehouse):
    first = _plan(warehouse)
    assert first.select is None and "no record of an earlier build" in first.reason
    _build(warehouse, first)

    same = _plan(warehouse)
    assert same.select == [] and same.reason.startswith("nothing")
    # Every node is current, parents first (Dagster's outputs are given in this order).
    assert _names(same.skipped) == [
        "weights",
        "stg_events",
        "stg_nps",
        "fct_nps",
        "fct_usage",
        "windows",
        "mart_renewals",
        "not_null_fct_nps_score",
    ]

    _load(warehouse, "usage_events")
    events = _plan(warehouse)
    assert events.select == ["source:product.usage_events+"]
    assert _names(events.skipped) == [
        "weights",
        "stg_nps",
        "fct_nps",
        "windows",
        "mart_renewals",
        "not_null_fct_nps_score",
    ]
    assert events.reason.startswith("2 of 8 models, seeds and tests: loads into usage_events")
    _build(warehouse, events)

    # The date moved: what calls as_of_date(), here through another macro, and below it.
    moved = _plan(warehouse, as_of="2026-07-01")
    assert moved.select == ["windows+"]
    assert "the date moved from 2026-06-30 to 2026-07-01" in moved.reason
    assert "windows" not in _names(moved.skipped)
    assert "mart_renewals" not in _names(moved.skipped)
    _build(warehouse, moved)

    # A row written by other means than the loader is seen when the row count changes.
    _load(warehouse, "nps_responses", logged=False)
    nps = _plan(warehouse, as_of="2026-07-01")
    assert nps.select == ["source:surveys.nps_responses+"]
    assert _names(nps.skipped) == ["weights", "stg_events", "fct_usage"]


def test_a_date_by_environment_is_the_date_dbt_uses(warehouse, monkeypatch):
    _build(warehouse, _plan(warehouse, as_of=None))  # today
    monkeypatch.setenv("OUTCOMES_AS_OF_DATE", "2026-01-31")
    plan = _plan(warehouse, as_of=None)
    assert plan.select == ["windows+"]
    assert plan.state.as_of == "2026-01-31"
    assert f"the date moved from {date.today()} to 2026-01-31" in plan.reason


def test_whatever_else_changed_builds_everything(warehouse, monkeypatch):
    _build(warehouse, _plan(warehouse))
    assert _plan(warehouse).select == []

    monkeypatch.setenv("OUTCOMES_PII_SALT", "another salt")  # reaches the SQL
    changed = _plan(warehouse)
    assert changed.select is None and "the project changed since" in changed.reason
    _build(warehouse, changed)
    assert _plan(warehouse).select == []

    failed = _plan(warehouse, everything=True)
    assert failed.select is None and failed.reason == "everything (asked for)"
    _build(warehouse, failed, succeeded=False)
    assert "was failed" in _plan(warehouse).reason
    _build(warehouse, _plan(warehouse))

    changes.begin_build(warehouse, _plan(warehouse, "--full-refresh"))  # killed: never ends
    assert "was running" in _plan(warehouse).reason
    _build(warehouse, _plan(warehouse))

    other_vars = _plan(warehouse, "--vars", "{health_weight_usage: 1}")
    assert other_vars.select is None and other_vars.record == "partial"
    _build(warehouse, other_vars)
    assert "was partial" in _plan(warehouse).reason
    _build(warehouse, _plan(warehouse))

    # Its own selection: built as asked, and the next plain build looks past it.
    own = _plan(warehouse, "--select", "fct_nps")
    assert own.select is None and own.dbt_args() == []
    _build(warehouse, own)
    _load(warehouse, "usage_events")
    assert _plan(warehouse).select == ["source:product.usage_events+"]

    monkeypatch.setenv("OUTCOMES_TARGET", "postgres")
    other_engine = _plan(warehouse)
    assert other_engine.state is None and other_engine.select is None
    assert changes.begin_build(warehouse, other_engine) is None


def test_a_load_into_a_table_no_model_reads_builds_everything(warehouse):
    _build(warehouse, _plan(warehouse))
    _load(warehouse, "renewal_intents")  # no source in the small manifest
    plan = _plan(warehouse)
    assert plan.select is None and "without a dbt source: ['renewal_intents']" in plan.reason


def test_every_variable_the_project_reads_is_in_the_fingerprint_or_said_why_not():
    """A new env_var() in the project must be classified: reaching the SQL (fingerprint), or
    placing files and sizing resources, or the date, or another engine's connection."""
    root = Path(changes.PROJECT_DIR)
    text = "".join(
        p.read_text()
        for folder in ("models", "macros")
        for p in (root / folder).rglob("*")
        if p.suffix in (".sql", ".yml", ".py")
    )
    text += (root / "dbt_project.yml").read_text() + (root / "profiles.yml").read_text()
    read = set()
    for chunk in text.split("env_var(")[1:]:
        read.add(chunk.split(",")[0].split(")")[0].strip(" '\""))
    placing = {"OUTCOMES_WAREHOUSE", "OUTCOMES_THREADS", "OUTCOMES_TEMP_DIR"}
    placing |= {"OUTCOMES_MEMORY_LIMIT", "OUTCOMES_AS_OF_DATE"}
    # The other engines' connections (plans are for the DuckDB warehouse only).
    other_engines = {v for v in read if "_PG_" in v} | {"OUTCOMES_SPARK_SCHEMA"}
    other_engines.add("OUTCOMES_SPARK_DRIVER_MEMORY")
    assert read - placing - other_engines == set(changes.FINGERPRINT_ENV)


# The real project, built by dbt: a day of new events, then a survey response.


def _relations(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Every model and seed relation's rows, as a multiset: their count and the sum of their
    hashes (whole rows; in SQL, 20 s faster here than comparing the rows in Python)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            """select schema_name || '.' || table_name from duckdb_tables()
            where schema_name not in ('raw', 'main') and not starts_with(table_name, '_')
            union all
            select schema_name || '.' || view_name from duckdb_views()
            where not internal and schema_name not in ('raw', 'main')"""
        ).fetchall()
        return {
            name: con.execute(f"select count(*), sum(hash(t)) from {name} as t").fetchone()
            for (name,) in names
        }


def _executed(target: Path) -> set[str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}


def test_a_daily_build_of_what_changed_leaves_the_warehouse_as_building_everything(
    built, tmp_path, monkeypatch
):
    # A copy of the session's warehouse, whose build was recorded (conftest: run_dbt).
    settings = Settings(tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "serve")
    shutil.copy(built.warehouse, settings.warehouse)
    target = tmp_path / "target"
    shutil.copytree(BUILT_TARGET[0], target)  # its manifest and partial parse
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    build = ["build", "--exclude-resource-type", "unit_test"]

    before = _relations(settings.warehouse)
    new_day, _ = append_day(settings.warehouse, settings.landing / "usage_events")
    assert new_day == date.fromisoformat(AS_OF) + timedelta(days=1)
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert run_dbt(settings, build, as_of=str(new_day), echo=False) == 0
    daily = _executed(target)
    assert {"stg_product__usage_event_deliveries", "fct_account_usage_daily"} <= daily
    assert {"fct_account_health", "fct_success_gaps", "fct_renewals"} <= daily  # events, date
    assert "int_survey_scores_monthly" not in daily  # surveys: no load, no date
    assert "stg_crm__accounts" not in daily

    # A survey response on the same date: only what reads the NPS responses.
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        con.execute(
            f"""copy (select 'late-' || response_id as response_id, account_id, user_id, score,
                comment, timestamp '{new_day} 12:00:00' as responded_at
                from raw.nps_responses order by response_id limit 1)
            to '{tmp_path / "nps.csv"}' (header)"""
        )
    (settings.landing / "nps_responses").mkdir()
    shutil.move(tmp_path / "nps.csv", settings.landing / "nps_responses" / "late.csv")
    load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
    assert run_dbt(settings, build, as_of=str(new_day), echo=False) == 0
    survey = _executed(target)
    assert "stg_surveys__nps_responses" in survey and "fct_account_usage_daily" not in survey
    selective = _relations(settings.warehouse)
    changed = {name for name, rows in selective.items() if rows != before.get(name)}
    assert {"marts.fct_customer_metrics_monthly", "marts.fct_account_usage_daily"} <= changed

    # Every node built again from the same inputs: nothing differs from the two daily builds.
    assert run_dbt(settings, build, as_of=str(new_day), echo=False, everything=True) == 0
    assert len(_executed(target)) > len(daily | survey)
    assert _relations(settings.warehouse) == selective


def test_a_full_refresh_of_a_clustered_model_inserts_unordered_and_resets_the_setting(
    built, tmp_path, monkeypatch
):
    """A clustered incremental model built whole inserts without keeping the sorted rows'
    order (what lets it spill at 110 M events under 3GB: macros/clustered_by.sql), resets the
    setting after, and leaves the same rows; its incremental runs do not change the setting."""
    settings = Settings(tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "serve")
    shutil.copy(built.warehouse, settings.warehouse)
    target = tmp_path / "target"
    shutil.copytree(BUILT_TARGET[0], target)
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    log = tmp_path / "logs" / "dbt.log"
    table = "marts.fct_feature_adoption_weekly"

    def rows() -> list:
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            return con.execute(f"select * from {table} order by all").fetchall()

    before = rows()
    select = ["-s", "fct_feature_adoption_weekly"]
    assert run_dbt(settings, ["run", "--full-refresh", *select], as_of=AS_OF, echo=False) == 0
    whole = log.read_text()
    assert "set preserve_insertion_order = false" in whole
    assert "reset preserve_insertion_order" in whole
    insert = 'insert into "warehouse"."marts"."fct_feature_adoption_weekly'
    assert whole.index("set preserve_insertion_order") < whole.index(insert)
    assert rows() == before
    log.unlink()
    assert run_dbt(settings, ["run", *select], as_of=AS_OF, echo=False) == 0
    incremental = log.read_text()
    assert "set preserve_insertion_order = false" not in incremental
    assert "reset preserve_insertion_order" in incremental  # harmless, and always reached
