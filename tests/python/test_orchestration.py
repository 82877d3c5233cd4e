"""Dagster: the definitions, the tags the daily plan relies on, write-audit-publish guarantees.
The refresh job day after day: test_daily_refresh.py."""

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from customer_outcomes.config import Settings
from customer_outcomes.contract import TABLES
from customer_outcomes.publish import audit_and_publish, marts_hash


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
    assert len(contract) == len(TABLES)
    # A rejected file is reported; the rest of the run goes on (the table keeps its last data).
    assert not any(graph.get_check_spec(c).blocking for c in contract)
    assert any(c.name.startswith("unique_") for c in checks)  # dbt tests as asset checks
    parents = graph.get(AssetKey("serve_database")).parent_keys
    assert AssetKey(["marts", "fct_renewal_predictions"]) in parents


def test_schedules_and_sensor_start_switched_off():
    from dagster import DefaultScheduleStatus, DefaultSensorStatus

    from customer_outcomes.defs import defs

    assert {s.default_status for s in defs.schedules} == {DefaultScheduleStatus.STOPPED}
    assert {s.default_status for s in defs.sensors} == {DefaultSensorStatus.STOPPED}


def test_every_model_that_reads_the_date_is_tagged_as_of():
    """The daily plan rebuilds `tag:as_of+` when the date moves: a model that reads
    as_of_date() (directly or through another macro) without the tag would go stale."""
    from customer_outcomes.dbt import current_manifest

    manifest = json.loads(current_manifest().read_text())
    macros = manifest["macros"]

    def reads_date(macro: str, seen: frozenset = frozenset()) -> bool:
        if macro in ("macro.customer_outcomes.as_of_date", "macro.customer_outcomes.as_of_value"):
            return True
        deps = macros.get(macro, {}).get("depends_on", {}).get("macros", [])
        return any(reads_date(m, seen | {macro}) for m in deps if m not in seen)

    nodes = manifest["nodes"]
    tagged = {uid for uid, n in nodes.items() if "as_of" in n.get("tags", [])}
    below = set(tagged)
    todo = list(tagged)
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in below:
                below.add(child)
                todo.append(child)
    readers = {
        uid
        for uid, n in nodes.items()
        if n["resource_type"] == "model" and any(reads_date(m) for m in n["depends_on"]["macros"])
    }
    assert readers and readers <= below
    assert "model.customer_outcomes.int_snapshot_dates" in tagged


@pytest.fixture
def published(built, tmp_path) -> Settings:
    """The test run's warehouse published to a serve file of this test's own."""
    settings = Settings(built.landing, built.warehouse, tmp_path / "serve.duckdb")
    audit_and_publish(settings.warehouse, settings.serve, progress=lambda _: None)
    return settings


def _serve_hash(serve: Path) -> str:
    with duckdb.connect(str(serve), read_only=True) as con:
        return marts_hash(con)


def test_publish_writes_the_marts_only(published):
    with duckdb.connect(str(published.serve), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_tables()").fetchall()}
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        leaked = con.execute(
            "select count(*) from marts.dim_accounts where csm_owner_hash like '%@%'"
        ).fetchone()[0]
        stored = con.execute("select content_hash from marts._published").fetchone()[0]
    # The stored hash is the hash of exactly what the serve file holds (not of the build's
    # marts attached beside it while publishing).
    assert stored == _serve_hash(published.serve)
    assert schemas == {"marts"}
    assert {"fct_success_gaps", "fct_renewal_predictions", "_published"} <= tables
    assert leaked == 0


def test_publish_with_parquet_writes_every_mart_as_a_file(built, tmp_path, monkeypatch, capsys):
    """`outcomes publish --parquet DIR`: the serve file and a Parquet file per mart, same rows."""
    from customer_outcomes.cli import main

    monkeypatch.setenv("OUTCOMES_SERVE", str(tmp_path / "serve.duckdb"))
    out = tmp_path / "pq"
    assert main(["publish", "--warehouse", str(built.warehouse), "--parquet", str(out)]) == 0
    assert f"  and as Parquet files to {out}/<mart>.parquet" in capsys.readouterr().out
    with duckdb.connect(str(tmp_path / "serve.duckdb"), read_only=True) as con:
        marts = {
            name: con.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where table_name <> '_published'"
            ).fetchall()
        }
        files = {
            p.stem: con.execute(f"select count(*) from '{p}'").fetchone()[0]
            for p in out.glob("*.parquet")
        }
    assert len(marts) == 22 and files == marts


def test_a_mart_that_breaks_its_promise_stops_publish(published, tmp_path):
    from dagster import materialize

    from customer_outcomes.defs.assets import serve_database
    from customer_outcomes.defs.resources import OutcomesSettings

    # A copy of the build database with one account twice in fct_success_gaps (its suite
    # expects account_id unique): the publish step fails and the serve file keeps its bytes.
    warehouse = tmp_path / "broken.duckdb"
    shutil.copy(published.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into marts.fct_success_gaps select * from marts.fct_success_gaps limit 1"
        )
    old = published.serve.read_bytes()
    outcomes = OutcomesSettings(
        landing=str(published.landing), warehouse=str(warehouse), serve=str(published.serve)
    )
    result = materialize([serve_database], resources={"outcomes": outcomes}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "fct_success_gaps" in str(failure.event_specific_data.error)
    assert "unchanged" in str(failure.event_specific_data.error)
    # Not retried: the same marts would break the same promise again.
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert published.serve.read_bytes() == old


def test_a_reader_of_the_serve_file_neither_blocks_a_publish_nor_sees_it(published):
    reader = duckdb.connect(str(published.serve), read_only=True)
    seen = reader.execute("select published_at from marts._published").fetchone()[0]
    before = _serve_hash(published.serve)
    audit_and_publish(published.warehouse, published.serve, progress=lambda _: None)
    assert reader.execute("select published_at from marts._published").fetchone()[0] == seen
    reader.close()
    with duckdb.connect(str(published.serve), read_only=True) as fresh:
        assert fresh.execute("select published_at from marts._published").fetchone()[0] > seen
    assert _serve_hash(published.serve) == before


def test_the_daily_refresh_leaves_out_only_the_whole_history_event_tests():
    """The daily dbt step runs with --exclude tag:full_history: those are the data tests of the
    two staged event views (each reads every event), and nothing else."""
    from customer_outcomes.dbt import current_manifest

    manifest = json.loads(current_manifest().read_text())
    tagged = {
        uid: n["depends_on"]["nodes"]
        for uid, n in manifest["nodes"].items()
        if "full_history" in n.get("tags", [])
    }
    assert len(tagged) >= 10
    assert all(uid.startswith("test.") for uid in tagged)
    events = {
        "model.customer_outcomes.stg_product__usage_events",
        "model.customer_outcomes.stg_product__usage_event_deliveries",
    }
    assert all(events & set(parents) for parents in tagged.values())
    on_events = {uid for uid, n in manifest["nodes"].items() if n.get("attached_node") in events}
    assert on_events == set(tagged)


def test_the_plans_dbt_ls_leaves_the_definitions_manifest_alone(tmp_path, monkeypatch):
    """The daily plan's `dbt ls` writes its artifacts beside the warehouse: dbt writes
    manifest.json in place, and the Dagster definitions (and `make dev`) read target/'s."""
    from customer_outcomes.dbt import DEFINITIONS_MANIFEST, current_manifest, dbt_ls

    settings = Settings(tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "s.duckdb")
    before = current_manifest(settings).stat().st_mtime_ns
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)  # dbt's default: the project's target/
    ids = dbt_ls(settings, "tag:as_of")
    assert "model.customer_outcomes.dim_accounts" in ids
    assert DEFINITIONS_MANIFEST.stat().st_mtime_ns == before
    assert (settings.dbt_target / "plan" / "manifest.json").exists()


def test_the_definitions_manifest_is_parsed_again_only_for_files_dbt_reads():
    """A change to a model, macro, seed or YAML file makes the manifest stale; pytest's own
    files under tests/python (and the __pycache__ every test run writes) do not."""
    from customer_outcomes.config import PROJECT_DIR
    from customer_outcomes.dbt import parsed_files

    files = {p.relative_to(PROJECT_DIR).as_posix() for p in parsed_files()}
    assert {
        "dbt_project.yml",
        "models/marts/success/fct_success_gaps.sql",
        "macros/as_of_date.sql",
        "seeds/health_weights.csv",
        "tests/generic/unique_combination_of_columns.sql",
    } <= files
    assert not [f for f in files if f.startswith("tests/python/")]


def test_after_a_failed_run_of_every_asset_the_next_plan_is_everything(tmp_path):
    """A run of every asset (the first, `--all`, `--full-refresh`) that fails leaves nothing
    known to be good: the next daily run builds everything again."""
    from dagster import DagsterInstance, Definitions, asset, define_asset_job

    from customer_outcomes.plan import plan_refresh, run_tags

    settings = Settings(tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "s.duckdb")
    duckdb.connect(str(settings.warehouse)).close()
    settings.dbt_state.mkdir(parents=True)
    (settings.dbt_state / "manifest.json").write_text("{}")

    @asset
    def breaks():
        raise RuntimeError("the build failed")

    job = Definitions(assets=[breaks], jobs=[define_asset_job("all")]).resolve_job_def("all")
    with DagsterInstance.ephemeral() as instance:
        run = job.execute_in_process(
            instance=instance, tags=run_tags(settings), raise_on_error=False
        )
        assert not run.success
        plan = plan_refresh(settings, instance, {}, frozenset())
    assert plan.asset_keys is None
    assert "built everything and did not succeed" in plan.describe()


def test_a_partial_run_from_the_ui_records_no_state():
    """A run of a few assets without the plan (a Materialize in the UI) may not build every
    model changed since the last build: only planned runs and runs of every asset record the
    state the next plan compares with (the daily test shows planned runs recording it)."""
    from dagster import DagsterRun

    from customer_outcomes.defs.assets import records_state
    from customer_outcomes.plan import PLAN_TAG

    some = frozenset({AssetKey(["marts", "dim_accounts"])})
    assert not records_state(DagsterRun(job_name="refresh", asset_selection=some))
    assert records_state(DagsterRun(job_name="refresh", asset_selection=some, tags={PLAN_TAG: "x"}))
    assert records_state(DagsterRun(job_name="full_refresh"))
