"""The same project on Spark (dbt-spark session mode, local pyspark, Java 17), in its own
virtual environment (.venv-spark, made by `make test-spark`). Builds the SQL models and runs
their unit tests and the marts' data tests on small demo data; the renewal
Python models are skipped there."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from customer_outcomes.config import PROJECT_DIR
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.engines import export_raw_parquet
from customer_outcomes.load import load_landing

pytestmark = pytest.mark.spark

SPARK_DBT = PROJECT_DIR / ".venv-spark" / "bin" / "dbt"
AS_OF = "2026-06-30"
SPEC = DemoSpec(accounts=60, days=400, seed=11, end_date=date.fromisoformat(AS_OF))


def _dbt(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        OUTCOMES_TARGET="spark",
        OUTCOMES_SPARK_RAW=str(workdir / "raw_parquet"),
        DBT_TARGET_PATH=str(workdir / "target"),
        DBT_LOG_PATH=str(workdir / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    cmd = [str(SPARK_DBT), "--no-use-colors", *args, "--project-dir", str(PROJECT_DIR)]
    cmd += ["--profiles-dir", str(PROJECT_DIR), "--vars", json.dumps({"as_of_date": AS_OF})]
    # Spark writes metastore_db/ and spark-warehouse/ into the working directory: a temporary
    # one, never the checkout.
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def spark_built(tmp_path_factory):
    if not SPARK_DBT.exists():
        pytest.fail(f"{SPARK_DBT} is missing: run `make test-spark`, which creates .venv-spark")
    workdir = tmp_path_factory.mktemp("spark")
    warehouse = workdir / "warehouse.duckdb"
    generate(SPEC, workdir / "landing", progress=lambda _: None)
    results = load_landing(warehouse, workdir / "landing", progress=lambda _: None)
    assert all(r.status == "loaded" for r in results)
    export_raw_parquet(warehouse, workdir / "raw_parquet")
    started = time.perf_counter()
    # Every model and unit test, and the marts' data tests (the BI interface). The staging and
    # intermediate data tests (127 checks of the same SQL, which run on DuckDB and Postgres)
    # are left out to keep CI short: Spark spends seconds on each query.
    done = _dbt(
        workdir,
        "build",
        "--exclude",
        "test_type:data,path:models/staging",
        "test_type:data,path:models/intermediate",
    )
    seconds = time.perf_counter() - started
    print(f"\nspark dbt build: {seconds:.0f} s")
    (workdir / "build.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-6000:]
    return workdir, done.stdout


def test_every_sql_model_and_test_passes_on_spark(spark_built):
    workdir, _ = spark_built
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    models = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}
    assert {"fct_customer_metrics_monthly", "fct_success_gaps", "fct_goal_attainment"} <= models
    assert {"fct_account_usage_daily", "fct_intervention_queue"} <= models
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    data_tests = [r for r in results if r["unique_id"].startswith("test.")]
    assert len(unit_tests) >= 10 and len(data_tests) >= 70
    assert all(r["status"] in ("success", "pass") for r in results)


def test_python_models_are_skipped_with_a_note(spark_built):
    workdir, out = spark_built
    assert "has no dbt Python models here" in out
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    assert not any("fct_renewal_predictions" in r["unique_id"] for r in results)


def _daily_rows(workdir: Path) -> list[tuple]:
    """fct_account_usage_daily as Spark wrote it (Parquet, one folder per usage_date), read
    with DuckDB: no second JVM needed to look."""
    files = workdir / "spark-warehouse" / "marts.db" / "fct_account_usage_daily" / "*" / "*.parquet"
    return duckdb.sql(
        f"""select account_id, usage_date, active_users, sessions, feature_events,
                  distinct_features, distinct_core_features
        from read_parquet('{files}', hive_partitioning = true) order by all"""
    ).fetchall()


def test_incremental_rerun_on_spark_keeps_the_rows(spark_built):
    """insert_overwrite by day: an incremental run replaces the lookback days' partitions with
    the same rows (no duplicates, nothing lost)."""
    workdir, _ = spark_built
    before = _daily_rows(workdir)
    assert before
    rerun = _dbt(workdir, "run", "-s", "fct_account_usage_daily")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    compiled = next((workdir / "target" / "compiled").rglob("fct_account_usage_daily.sql"))
    assert "cast('" in compiled.read_text(), "the rerun was not incremental"
    assert _daily_rows(workdir) == before
