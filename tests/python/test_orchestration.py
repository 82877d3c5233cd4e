"""Dagster: definitions, the refresh job end to end, write-audit-publish guarantees."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from customer_outcomes.cli import run_refresh_job
from customer_outcomes.config import PROJECT_DIR, Settings
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.publish import marts_hash

AS_OF = "2026-06-30"
SPEC = DemoSpec(accounts=40, days=200, seed=3, end_date=date.fromisoformat(AS_OF))


def test_definitions_load():
    from customer_outcomes.defs import defs

    assert {j.name for j in defs.jobs} == {"refresh", "full_refresh"}
    assert {s.name for s in defs.schedules} == {"nightly", "weekly"}
    assert [s.name for s in defs.sensors] == ["landing_sensor"]
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert AssetKey(["product", "usage_events"]) in keys
    assert AssetKey(["marts", "fct_success_gaps"]) in keys
    assert AssetKey("serve_database") in keys
    groups = {graph.get(k).group_name for k in keys}
    assert {"ingest", "staging", "intermediate", "marts", "seeds", "publish"} <= groups
    checks = graph.asset_check_keys
    contract = [c for c in checks if c.name == "raw_contract"]
    assert len(contract) == 11
    assert all(graph.get_check_spec(c).blocking for c in contract)
    assert any(c.name.startswith("unique_") for c in checks)  # dbt tests as asset checks
    parents = graph.get(AssetKey("serve_database")).parent_keys
    assert AssetKey(["marts", "fct_renewal_predictions"]) in parents


def test_a_missing_or_stale_manifest_is_parsed_once_in_the_background(tmp_path):
    from customer_outcomes import dbt

    manifest = tmp_path / "target" / "manifest.json"
    dbt.start_manifest_parse(manifest)
    first = dbt._PARSES[manifest]
    dbt.start_manifest_parse(manifest)  # already parsing: no second parse
    assert dbt._PARSES[manifest] is first and first.poll() is None
    assert dbt.current_manifest(manifest) == manifest
    assert first.returncode == 0 and manifest not in dbt._PARSES
    assert json.loads(manifest.read_text())["nodes"]
    dbt.start_manifest_parse(manifest)  # current: nothing to do
    assert manifest not in dbt._PARSES
    os.utime(manifest, (0, 0))  # older than every file of the project
    dbt.start_manifest_parse(manifest)
    assert manifest in dbt._PARSES
    dbt.current_manifest(manifest)
    assert manifest.stat().st_mtime > 0 and manifest not in dbt._PARSES


def test_the_background_parse_leaves_a_partial_parse_the_builds_reuse(tmp_path):
    """`outcomes run` parses while it generates data; the job's dbt commands then reuse that
    parse only if the profile renders the same for both (the warehouse and spill paths)."""
    from customer_outcomes import dbt

    settings = Settings(tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "serve")
    manifest = tmp_path / "target" / "manifest.json"
    dbt.start_manifest_parse(manifest, settings)
    dbt.current_manifest(manifest, settings)
    ls = subprocess.run(
        [dbt.dbt_executable(), "ls", "--resource-type", "seed", "--target-path",
         str(manifest.parent), "--project-dir", str(PROJECT_DIR), "--profiles-dir",
         str(PROJECT_DIR), "--log-path", str(tmp_path / "logs")],
        cwd=PROJECT_DIR, env=dbt.dbt_env(settings), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "health_weights" in ls.stdout
    assert "Unable to do partial parsing" not in ls.stdout + ls.stderr


def test_the_load_step_takes_the_load_outcomes_run_started(tmp_path, monkeypatch):
    """run_refresh_job starts the load before the job (load.start_load); the job's
    landing_tables step reports that load's results and does not load again."""
    from dagster import materialize

    from customer_outcomes.defs import assets
    from customer_outcomes.defs.resources import OutcomesSettings
    from customer_outcomes.load import start_load

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    generate(DemoSpec(accounts=12, days=90, seed=11, end_date=date(2026, 5, 31)), landing,
             progress=lambda _: None)  # fmt: skip
    start_load(warehouse, landing)

    def no_second_load(*_args, **_kwargs):
        raise AssertionError("the step loaded again")

    monkeypatch.setattr(assets, "load_landing", no_second_load)
    outcomes = OutcomesSettings(landing=str(landing), warehouse=str(warehouse))
    result = materialize([assets.landing_tables], resources={"outcomes": outcomes})
    assert result.success
    rows = {
        m.asset_key.to_user_string(): m.metadata["rows_loaded"].value
        for m in result.asset_materializations_for_node("landing_tables")
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        events = con.execute("select count(*) from raw.usage_events").fetchone()[0]
    assert rows["product/usage_events"] == events > 0


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("orchestration")
    settings = Settings(root / "landing", root / "warehouse.duckdb", root / "serve.duckdb")
    generate(SPEC, settings.landing, progress=lambda _: None)
    previous = os.environ.get("DBT_TARGET_PATH")
    os.environ["DBT_TARGET_PATH"] = str(root / "target")
    try:
        assert run_refresh_job(settings, AS_OF)
        yield settings
    finally:
        if previous is None:
            os.environ.pop("DBT_TARGET_PATH", None)
        else:
            os.environ["DBT_TARGET_PATH"] = previous


def _serve_hash(serve: Path) -> str:
    con = duckdb.connect(str(serve), read_only=True)
    try:
        return marts_hash(con)
    finally:
        con.close()


def test_the_job_publishes_the_marts_only(first_run):
    con = duckdb.connect(str(first_run.serve), read_only=True)
    schemas = {
        r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()
    }
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    leaked = con.execute(
        """select count(*) from marts.dim_accounts where csm_owner_hash like '%@%'"""
    ).fetchone()[0]
    stored = con.execute("select content_hash from marts._published").fetchone()[0]
    con.close()
    # The stored hash is the hash of exactly what the serve file holds (not of the build's
    # marts attached beside it while publishing).
    assert stored == _serve_hash(first_run.serve)
    assert schemas == {"marts"}
    assert {"fct_success_gaps", "fct_renewal_predictions", "_published"} <= tables
    assert leaked == 0


def test_a_rerun_with_nothing_new_builds_nothing_and_still_publishes(first_run):
    from dagster import DagsterInstance

    from customer_outcomes.defs import build_definitions

    with duckdb.connect(str(first_run.serve), read_only=True) as con:
        published = con.execute("select published_at from marts._published").fetchone()[0]
    defs = build_definitions(
        landing=str(first_run.landing),
        warehouse=str(first_run.warehouse),
        serve=str(first_run.serve),
        as_of=AS_OF,
    )
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=DagsterInstance.ephemeral()
    )
    assert result.success
    statuses = {
        m.asset_key.to_user_string(): m.metadata["status"].value
        for m in result.asset_materializations_for_node("dbt_models")
    }
    assert statuses["marts/fct_success_gaps"] == "reused"
    assert set(statuses.values()) == {"reused"}
    with duckdb.connect(str(first_run.warehouse), read_only=True) as con:
        builds = con.execute("select status, selection from raw._build_log").fetchall()
    assert builds == [("success", "everything")]  # nothing to build: no new record
    with duckdb.connect(str(first_run.serve), read_only=True) as con:
        assert con.execute("select published_at from marts._published").fetchone()[0] > published


def test_a_failing_blocking_check_stops_publish(first_run):
    old = first_run.serve.read_bytes()
    bad = first_run.landing / "nps_responses" / "broken_export.csv"
    bad.write_text("response_id,account_id,comment\nx,acc_00001,no score column\n")
    try:
        assert not run_refresh_job(first_run, AS_OF)
    finally:
        bad.unlink()
    assert first_run.serve.read_bytes() == old


def test_a_mart_that_breaks_its_promise_stops_publish(first_run, tmp_path):
    from dagster import materialize

    from customer_outcomes.defs.assets import serve_database
    from customer_outcomes.defs.resources import OutcomesSettings

    # A copy of the build database with one account twice in fct_success_gaps (its suite
    # expects account_id unique): the publish step fails and the serve file keeps its bytes.
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(first_run.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("insert into marts.fct_success_gaps select * from marts.fct_success_gaps limit 1")
    con.close()
    old = first_run.serve.read_bytes()
    outcomes = OutcomesSettings(
        landing=str(first_run.landing), warehouse=str(warehouse), serve=str(first_run.serve)
    )
    result = materialize([serve_database], resources={"outcomes": outcomes}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "fct_success_gaps" in str(failure.event_specific_data.error)
    assert "unchanged" in str(failure.event_specific_data.error)
    # Not retried: the same marts would break the same promise again.
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert first_run.serve.read_bytes() == old


def test_a_build_out_of_memory_says_what_to_do(first_run, tmp_path, monkeypatch):
    from customer_outcomes.defs import assets
    from customer_outcomes.defs.assets import dbt_models
    from customer_outcomes.defs.resources import resources

    # A copy of the build database, built again under a memory limit DuckDB cannot work in:
    # the step runs once more, fails again, and then fails with dbt's error and what to change
    # (spill.resource_failure_hint).
    monkeypatch.setattr(assets, "OUT_OF_MEMORY_RETRY_SECONDS", 0)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(first_run.warehouse, warehouse)
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "1MB")
    monkeypatch.setenv("OUTCOMES_TEMP_DIR", str(tmp_path / "spill"))
    result = _build_every_node(dbt_models, resources, first_run, warehouse)
    assert not result.success
    assert len(_events(result, "STEP_UP_FOR_RETRY")) == 1
    assert len(_events(result, "STEP_RESTARTED")) == 1
    failure = _events(result, "STEP_FAILURE")[0]
    message = str(failure.event_specific_data.error)
    assert "Out of Memory Error" in message
    assert "DuckDB ran out of memory" in message
    assert "memory_limit 1MB (OUTCOMES_MEMORY_LIMIT)" in message
    assert f"{tmp_path / 'spill'} (OUTCOMES_TEMP_DIR)" in message


def _build_every_node(dbt_models, resources, first_run, warehouse):
    from dagster import materialize

    return materialize(
        [dbt_models],
        resources=resources(
            landing=str(first_run.landing), warehouse=str(warehouse), serve=str(first_run.serve)
        ),
        # Nothing changed since the copied build: every node, as the job's all_nodes config.
        run_config={"ops": {"dbt_models": {"config": {"all_nodes": True}}}},
        raise_on_error=False,
    )


def _events(result, event_type: str) -> list:
    return [e for e in result.all_events if e.event_type_value == event_type]


def test_a_build_that_ran_out_of_memory_once_passes_when_run_again(
    first_run, tmp_path, monkeypatch
):
    from customer_outcomes.defs import assets
    from customer_outcomes.defs.assets import dbt_models
    from customer_outcomes.defs.resources import resources

    # The first attempt runs under a limit DuckDB cannot work in; when the step reads its
    # failure, the limit goes back to the default, as a transient shortage passes: the second
    # attempt builds every node and the step succeeds, with the failed attempt on record.
    monkeypatch.setattr(assets, "OUT_OF_MEMORY_RETRY_SECONDS", 0)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(first_run.warehouse, warehouse)
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "1MB")
    monkeypatch.setenv("OUTCOMES_TEMP_DIR", str(tmp_path / "spill"))
    seen = []
    out_of_memory_only = assets.out_of_memory_only

    def out_of_memory_then_enough(lines):
        seen.append(out_of_memory_only(lines))
        monkeypatch.delenv("OUTCOMES_MEMORY_LIMIT")
        return seen[-1]

    monkeypatch.setattr(assets, "out_of_memory_only", out_of_memory_then_enough)
    result = _build_every_node(dbt_models, resources, first_run, warehouse)
    assert seen == [True]
    assert result.success
    assert len(_events(result, "STEP_UP_FOR_RETRY")) == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        builds = con.execute(
            "select status, selection from raw._build_log order by build_id"
        ).fetchall()
    assert builds[-2:] == [("failed", "everything"), ("success", "everything")]


def test_a_killed_run_leaves_the_serve_file_and_a_rerun_publishes_identical_marts(
    first_run, tmp_path
):
    # Killed in the middle of dbt build: the serve file keeps its bytes (any publish, even of
    # the same figures, would change them: published_at), and the next run on the same input
    # repairs the half-built warehouse and publishes the same marts as before.
    old = first_run.serve.read_bytes()
    before = _serve_hash(first_run.serve)
    env = dict(
        os.environ,
        OUTCOMES_LANDING=str(first_run.landing),
        OUTCOMES_WAREHOUSE=str(first_run.warehouse),
        OUTCOMES_SERVE=str(first_run.serve),
    )
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "customer_outcomes.cli", "run", "--as-of", AS_OF, "--all"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 240
        while "Running with dbt" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-2000:]
            time.sleep(0.5)
        time.sleep(3)  # in the middle of dbt build
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert first_run.serve.read_bytes() == old

    # The killed build's record says so, and the next run builds everything again.
    with duckdb.connect(str(first_run.warehouse), read_only=True) as con:
        assert con.execute(
            "select status from raw._build_log order by build_id desc limit 1"
        ).fetchone() == ("running",)

    # A reader holding the serve file open neither blocks the next run nor sees the swap.
    reader = duckdb.connect(str(first_run.serve), read_only=True)
    seen = reader.execute("select published_at from marts._published").fetchone()[0]
    assert run_refresh_job(first_run, AS_OF)
    with duckdb.connect(str(first_run.warehouse), read_only=True) as con:
        assert con.execute(
            "select status, selection from raw._build_log order by build_id desc limit 1"
        ).fetchone() == ("success", "everything")
    assert reader.execute("select published_at from marts._published").fetchone()[0] == seen
    reader.close()
    fresh = duckdb.connect(str(first_run.serve), read_only=True)
    assert fresh.execute("select published_at from marts._published").fetchone()[0] > seen
    fresh.close()
    assert _serve_hash(first_run.serve) == before
