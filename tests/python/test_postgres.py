"""The same project on PostgreSQL: build and test everything on the small demo data, agree with
DuckDB row by row, run the GX mart suites through GX's SQL datasource, and keep the BI role to
the marts. `make test-postgres` runs this file; it installs and starts a local server when none
answers (Debian package, cluster on 127.0.0.1), as CI starts on a clean machine."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import AS_OF

from customer_outcomes.config import PROJECT_DIR
from customer_outcomes.dbt import dbt_env, dbt_executable, scoped_env
from customer_outcomes.engines import copy_raw_to_postgres, pg_dsn
from customer_outcomes.gx_suites import validate_marts_sql
from customer_outcomes.renewal_step import engine_for, score

pytestmark = pytest.mark.postgres

DATABASE = "outcomes_test"
PG_ENV = {
    "OUTCOMES_TARGET": "postgres",
    "OUTCOMES_PG_HOST": "127.0.0.1",
    "OUTCOMES_PG_PORT": "5432",
    "OUTCOMES_PG_USER": "outcomes",
    "DBT_ENV_SECRET_PG_PASSWORD": "outcomes-test",
    "OUTCOMES_PG_DATABASE": DATABASE,
    "OUTCOMES_BI_ROLE": "bi_reader",
}
BI_PASSWORD = "bi-reader-test"
TIMINGS: dict[str, float] = {}


def _sh(cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


def _server_up() -> bool:
    return _sh("pg_isready -q -h 127.0.0.1 -p 5432").returncode == 0


def ensure_server() -> None:
    """Start (installing when absent) a local PostgreSQL server on 127.0.0.1:5432."""
    if _server_up():
        return
    if not Path("/usr/lib/postgresql").exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.fail("no PostgreSQL server and cannot install one (needs root and apt-get)")
        done = _sh(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
            "apt-get install -y -qq postgresql >/dev/null"
        )
        assert done.returncode == 0, f"installing postgresql failed: {done.stderr[-2000:]}"
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").exists() else []
    assert versions, "postgresql is installed but has no cluster"
    started = _sh(f"pg_ctlcluster {versions[-1]} main start")
    for _ in range(30):
        if _server_up():
            return
        time.sleep(1)
    pytest.fail(f"PostgreSQL did not start: {started.stderr}")


def _superuser_sql(sql: str) -> None:
    done = subprocess.run(
        ["su", "postgres", "-c", "psql -v ON_ERROR_STOP=1 -q -d postgres"],
        input=sql,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def pg_built(built, tmp_path_factory):
    """The `built` DuckDB warehouse's raw tables copied to a fresh Postgres database, then
    `dbt build --target postgres` (every model, data test and unit test) with the renewal
    model run on Postgres between its two halves."""
    ensure_server()
    password = PG_ENV["DBT_ENV_SECRET_PG_PASSWORD"]
    _superuser_sql(
        f"""
        do $$ begin
          if not exists (select from pg_roles where rolname = 'outcomes') then
            create role outcomes login createdb;
          end if;
          if not exists (select from pg_roles where rolname = 'bi_reader') then
            create role bi_reader login;
          end if;
        end $$;
        alter role outcomes password '{password}';
        alter role bi_reader password '{BI_PASSWORD}';
        drop database if exists {DATABASE} with (force);
        create database {DATABASE} owner outcomes;
        """
    )
    saved = {k: os.environ.get(k) for k in [*PG_ENV, "DBT_TARGET_PATH"]}
    os.environ.update(PG_ENV)
    os.environ["DBT_TARGET_PATH"] = str(tmp_path_factory.mktemp("pg_target"))
    try:
        started = time.perf_counter()
        copy_raw_to_postgres(built.warehouse)
        TIMINGS["copy raw"] = time.perf_counter() - started
        started = time.perf_counter()
        cmd = [dbt_executable(), "--no-use-colors", "build", "--project-dir", str(PROJECT_DIR)]
        cmd += ["--profiles-dir", str(PROJECT_DIR), "--vars", json.dumps({"as_of_date": AS_OF})]
        env = os.environ | dbt_env(built)

        def dbt(*args: str) -> subprocess.CompletedProcess:
            done = subprocess.run(
                [*cmd, *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stdout[-6000:]
            return done

        # The same three steps as on DuckDB: dbt up to the renewal model, the model on
        # Postgres (its own cache: the DuckDB build's training is not reused), the marts over
        # its tables.
        dbt("--selector", "before_renewal_model")
        cache = {"OUTCOMES_MODEL_CACHE": str(tmp_path_factory.mktemp("pg_models"))}
        with scoped_env(cache), engine_for("postgres") as engine:
            score(engine)
        dbt("--selector", "renewal_marts")
        TIMINGS["dbt build"] = time.perf_counter() - started
        # Again, now incremental: the snapshot models delete their window and insert it again
        # through Postgres SQL; the marts must still agree with DuckDB. `dbt run` of the
        # incremental models and what reads them: the data tests passed in the first build.
        started = time.perf_counter()
        rerun = [*cmd, "--select", "config.materialized:incremental+"]
        rerun[rerun.index("build")] = "run"
        again = subprocess.run(
            rerun, cwd=PROJECT_DIR, env=os.environ | dbt_env(built), capture_output=True, text=True
        )
        TIMINGS["dbt build again (incremental)"] = time.perf_counter() - started
        assert again.returncode == 0, again.stdout[-6000:]
        assert "incremental model intermediate.int_goal_attainment_snapshots" in again.stdout
        print(f"\npostgres timings (s): {TIMINGS}")
        yield built
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _pg(user: str = "outcomes", password: str | None = None):
    import psycopg2

    dsn = pg_dsn().replace("user=outcomes", f"user={user}")
    if password is not None:
        dsn = dsn.replace(
            f"password={PG_ENV['DBT_ENV_SECRET_PG_PASSWORD']}", f"password={password}"
        )
    return psycopg2.connect(dsn)


def _normal(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _same(a, b) -> bool:
    a, b = _normal(a), _normal(b)
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize(
    ("mart", "key"),
    [
        ("fct_customer_metrics_monthly", "month_start, segment"),
        ("fct_goal_attainment", "goal_id"),
        ("fct_success_gaps", "account_id"),
        ("fct_success_gaps_weekly", "account_id, week_start"),
        ("fct_account_health", "account_id, week_start"),
    ],
)
def test_key_marts_agree_with_duckdb_row_by_row(pg_built, mart, key):
    duck = duckdb.connect(str(pg_built.warehouse), read_only=True)
    try:
        columns = [r[0] for r in duck.execute(f"describe marts.{mart}").fetchall()]
        select = f"select {', '.join(columns)} from marts.{mart} order by {key}"
        duck_rows = duck.execute(select).fetchall()
    finally:
        duck.close()
    with _pg() as pg, pg.cursor() as cur:
        cur.execute(select)
        pg_rows = cur.fetchall()
    assert len(duck_rows) == len(pg_rows) > 0
    for d_row, p_row in zip(duck_rows, pg_rows, strict=True):
        for column, d, p in zip(columns, d_row, p_row, strict=True):
            assert _same(d, p), f"{mart}.{column} differs for {d_row[:2]}: duckdb {d!r}, pg {p!r}"


def test_gx_mart_suites_pass_through_the_sql_datasource(pg_built):
    dsn = (
        f"postgresql+psycopg2://outcomes:{PG_ENV['DBT_ENV_SECRET_PG_PASSWORD']}"
        f"@127.0.0.1:5432/{DATABASE}"
    )
    failures = validate_marts_sql(dsn)
    assert "fct_success_gaps" in failures and "fct_customer_metrics_monthly" in failures
    assert not any(failures.values()), failures


def test_gx_sql_suites_catch_a_broken_mart(pg_built):
    with _pg() as pg, pg.cursor() as cur:
        cur.execute("create schema if not exists broken_marts")
        cur.execute("drop table if exists broken_marts.fct_success_gaps")
        cur.execute(
            "create table broken_marts.fct_success_gaps as select * from marts.fct_success_gaps"
        )
        cur.execute("update broken_marts.fct_success_gaps set vendor_view_score = 140")
    dsn = (
        f"postgresql+psycopg2://outcomes:{PG_ENV['DBT_ENV_SECRET_PG_PASSWORD']}"
        f"@127.0.0.1:5432/{DATABASE}"
    )
    failures = validate_marts_sql(dsn, schema="broken_marts")
    assert any("vendor_view_score" in f for f in failures["fct_success_gaps"]), failures


def test_bi_role_reads_the_marts_only(pg_built):
    import psycopg2

    with _pg("bi_reader", BI_PASSWORD) as pg, pg.cursor() as cur:
        cur.execute("select count(*) from marts.fct_success_gaps")
        assert cur.fetchone()[0] > 0
    for relation in ["raw.usage_events", "staging.stg_crm__accounts", "raw.accounts"]:
        with (
            _pg("bi_reader", BI_PASSWORD) as pg,
            pg.cursor() as cur,
            pytest.raises(psycopg2.errors.InsufficientPrivilege),
        ):
            cur.execute(f"select count(*) from {relation}")


def _renewal_rows(cursor_or_con, table: str, key: str) -> tuple[list[str], list[tuple]]:
    select = f"select * from marts.{table} order by {key}"
    if isinstance(cursor_or_con, duckdb.DuckDBPyConnection):
        found = cursor_or_con.execute(select)
    else:
        cursor_or_con.execute(select)
        found = cursor_or_con
    return [d[0] for d in found.description], found.fetchall()


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("fct_renewal_predictions", "contract_id"),
        ("fct_renewal_signal_evaluation", "signal"),
        ("fct_renewal_signal_lead_time", "signal_lead_id"),
        ("fct_renewal_calibration", "decile"),
    ],
)
def test_renewal_marts_equal_duckdb(pg_built, table, key):
    """The renewal model run on Postgres (features read through its connection) gives the
    DuckDB build's predictions, scores and calibration: same training date and seed, every
    number within 1e-9."""
    duck = duckdb.connect(str(pg_built.warehouse), read_only=True)
    try:
        duck_columns, duck_rows = _renewal_rows(duck, table, key)
    finally:
        duck.close()
    with _pg() as pg, pg.cursor() as cur:
        pg_columns, pg_rows = _renewal_rows(cur, table, key)
    assert pg_columns == duck_columns
    assert len(duck_rows) == len(pg_rows) > 0
    for d_row, p_row in zip(duck_rows, pg_rows, strict=True):
        for column, d, p in zip(duck_columns, d_row, p_row, strict=True):
            if isinstance(d, float) and isinstance(_normal(p), float):
                assert abs(d - _normal(p)) <= 1e-9, f"{table}.{column} for {d_row[0]}: {d} {p}"
            else:
                assert _same(d, p), f"{table}.{column} differs for {d_row[0]}: {d!r}, {p!r}"
