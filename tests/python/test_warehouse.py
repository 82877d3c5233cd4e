"""The dbt project on the demo data: it builds, its keys are tested, no email leaks."""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml

from customer_outcomes.config import PROJECT_DIR, Settings
from customer_outcomes.contract import RAW_TYPES, TABLES
from customer_outcomes.dbt import dbt_env, dbt_executable

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _manifest(built) -> dict:
    from conftest import BUILT_TARGET

    path = BUILT_TARGET[0] / "manifest.json"
    return json.loads(path.read_text())


def _string_columns(con, schemas):
    return con.execute(
        f"""select table_schema, table_name, column_name from information_schema.columns
        where table_schema in ({", ".join(f"'{s}'" for s in schemas)})
          and data_type = 'VARCHAR'"""
    ).fetchall()


def _email_hits(con, schemas) -> list[str]:
    hits = []
    for schema, table, column in _string_columns(con, schemas):
        n = con.execute(
            f"""select count(*) from "{schema}"."{table}"
            where regexp_matches("{column}", '{EMAIL.pattern}')"""
        ).fetchone()[0]
        if n:
            hits.append(f"{schema}.{table}.{column}: {n}")
    return hits


def test_no_clear_text_email_past_staging(read_only):
    schemas = [
        r[0]
        for r in read_only.execute(
            "select distinct table_schema from information_schema.tables "
            "where table_schema not in ('raw', 'information_schema', 'pg_catalog')"
        ).fetchall()
    ]
    assert "staging" in schemas
    assert _email_hits(read_only, schemas) == []


def test_the_email_scan_does_find_emails_in_raw(read_only):
    """Guards the test above: the same scan sees the emails the raw data holds."""
    hits = _email_hits(read_only, ["raw"])
    assert any(h.startswith("raw.users.email") for h in hits)
    assert any(h.startswith("raw.nps_responses.comment") for h in hits)
    assert any(h.startswith("raw.cs_activities.owner") for h in hits)


def test_every_staging_key_is_tested(built):
    manifest = _manifest(built)
    tests: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        model = node["attached_node"] or ""
        column = node.get("column_name")
        tests.setdefault(f"{model}.{column}", set()).add(node["test_metadata"]["name"])
    for name, table in TABLES.items():
        model = f"model.customer_outcomes.stg_{table.system}__{name}"
        if len(table.primary_key) > 1 and name != "accounts":  # a grain of several columns
            assert "unique_combination_of_columns" in tests.get(f"{model}.None", set()), model
        else:  # accounts: one row per account (the latest version)
            key = table.primary_key[0]
            assert {"unique", "not_null"} <= tests.get(f"{model}.{key}", set()), model
        # The events' references are tested on every delivery (the de-duplicated events are
        # some of them; models/staging/product/_product__models.yml says why).
        if name == "usage_events":
            tested = "model.customer_outcomes.stg_product__usage_event_deliveries"
        else:
            tested = model
        for fk in table.foreign_keys:
            assert "relationships" in tests.get(f"{tested}.{fk}", set()), f"{tested}.{fk}"


def test_dbt_sources_match_the_contract():
    for path in (PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"):
        doc = yaml.safe_load(path.read_text())
        for source in doc["sources"]:
            for table in source["tables"]:
                contract = TABLES[table["name"]]
                assert contract.system == source["name"]
                assert [c["name"] for c in table["columns"]] == contract.column_names


def test_staging_deduplicates_events_and_account_versions(read_only):
    raw, staged = read_only.execute(
        "select (select count(*) from raw.usage_events), "
        "(select count(*) from staging.stg_product__usage_events)"
    ).fetchone()
    distinct = read_only.execute(
        "select count(distinct event_id) from raw.usage_events"
    ).fetchone()[0]
    assert staged == distinct < raw
    versions, accounts = read_only.execute(
        "select (select count(*) from raw.accounts), "
        "(select count(*) from staging.stg_crm__accounts)"
    ).fetchone()
    assert accounts < versions
    latest = read_only.execute(
        """select count(*) from staging.stg_crm__accounts as s
        inner join (
            select account_id, max(updated_at) as updated_at from raw.accounts group by 1
        ) as r on s.account_id = r.account_id and s.updated_at = r.updated_at"""
    ).fetchone()[0]
    assert latest == accounts


def test_arr_keeps_the_raw_contracts_precision_until_the_marts(read_only):
    """type_money() is the raw contract's decimal: a narrower type would round ARR before the
    marts. The amounts of the revenue intermediates carry it, sums included."""
    types = dict(
        read_only.execute(
            """select table_name || '.' || column_name, data_type
            from information_schema.columns
            where (table_schema, table_name) in (
                ('raw', 'contracts'), ('staging', 'stg_billing__contracts'),
                ('intermediate', 'int_account_arr_monthly'),
                ('intermediate', 'int_account_arr_movements'),
                ('intermediate', 'int_account_weeks_in_force'))
                and column_name like '%arr'"""
        ).fetchall()
    )
    raw = types.pop("contracts.arr")
    assert raw == RAW_TYPES["decimal"]
    assert "stg_billing__contracts.arr" in types and "int_account_arr_movements.new_arr" in types
    assert set(types.values()) == {raw}, types


def test_nps_categories_follow_the_definition(read_only):
    rows = read_only.execute(
        "select distinct score, nps_category from staging.stg_surveys__nps_responses order by 1"
    ).fetchall()
    expected = {
        s: "detractor" if s <= 6 else "passive" if s <= 8 else "promoter" for s in range(11)
    }
    assert all(expected[s] == c for s, c in rows)


def test_mart_validation_passes_and_catches_a_broken_promise(built, tmp_path):
    import shutil

    import duckdb

    from customer_outcomes.gx_suites import validate_marts

    con = duckdb.connect(str(built.warehouse), read_only=True)
    assert all(not found for found in validate_marts(con).values())
    con.close()
    copy = tmp_path / "broken.duckdb"
    shutil.copy(built.warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("update marts.fct_customer_metrics_monthly set nps = 150 where nps is not null")
    con.execute("insert into marts.dim_accounts select * from marts.dim_accounts limit 1")
    failures = validate_marts(con)
    con.close()
    assert failures["fct_customer_metrics_monthly"] == ["nps: range: -100 to 100"]
    assert any("account_id" in f for f in failures["dim_accounts"])


def test_a_full_build_writes_the_incremental_models_in_date_order(built, read_only):
    # macros/clustered_by.sql: rows in storage (rowid) order never step back in the period
    # column, so each row group covers a narrow range of dates and incremental runs skip the
    # history. The shared test build (conftest.py) is a first, full build.
    manifest = _manifest(built)
    checked = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or "clustered_by(" not in node["raw_code"]:
            continue
        column = re.search(r"clustered_by\('(\w+)'\)", node["raw_code"]).group(1)
        relation = f"{node['schema']}.{node['alias']}"
        checked[node["name"]] = read_only.execute(
            f"""select count(*) filter (where {column} < previous), count(*) from (
                select {column}, lag({column}) over (order by rowid) as previous
                from {relation}
            )"""
        ).fetchone()
    incremental = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["config"]["materialized"] == "incremental"
        # One row per renewal (60 K rows at 100 M events) and one per account and feature
        # (its first use): no dated periods.
        and n["name"] not in ("int_renewal_usage_windows", "int_account_feature_first_use")
    }
    assert set(checked) == incremental
    assert all(rows > 0 for _, rows in checked.values()), checked
    assert {name: back for name, (back, _) in checked.items() if back} == {}


def test_duckdb_settings_come_from_the_environment(tmp_path, monkeypatch):
    """memory_limit, threads and the spill directory reach DuckDB (set when the database
    opens, profiles.yml config_options), and TimeZone is UTC (set per cursor)."""
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "1500MB")
    monkeypatch.setenv("OUTCOMES_THREADS", "1")
    monkeypatch.setenv("OUTCOMES_TEMP_DIR", str(tmp_path / "spill"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    settings = Settings(tmp_path / "landing", tmp_path / "wh.duckdb", tmp_path / "serve.duckdb")
    query = (
        "select current_setting('memory_limit') as memory_limit,"
        " current_setting('threads') as threads,"
        " current_setting('temp_directory') as temp_directory,"
        " current_setting('TimeZone') as time_zone"
    )
    out = subprocess.run(
        [
            dbt_executable(),
            "--no-use-colors",
            "--log-format",
            "json",
            "show",
            "--inline",
            query,
            "--output",
            "json",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
        ],
        cwd=PROJECT_DIR,
        env=os.environ | dbt_env(settings),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shown = next(
        json.loads(json.loads(line)["data"]["preview"])
        for line in out.splitlines()
        if line.startswith("{") and "preview" in json.loads(line).get("data", {})
    )
    # 1500 MB = 1.397 GiB, which DuckDB shows truncated.
    assert shown == [
        {
            "memory_limit": "1.3 GiB",
            "threads": 1,
            "temp_directory": str(tmp_path / "spill"),
            "time_zone": "UTC",
        }
    ]


def test_unique_on_duckdb_reports_each_duplicated_value_with_its_count(
    built, tmp_path, monkeypatch
):
    """macros/unique.sql finds duplicates with a window (it spills where dbt's group by ran out
    of memory at 100 M events) and must still report what dbt's `unique` reports: one failure
    per duplicated value, with its number of rows."""
    import shutil

    import duckdb
    from conftest import BUILT_TARGET

    from customer_outcomes.dbt import run_dbt

    copy = tmp_path / "duplicated.duckdb"
    shutil.copy(built.warehouse, copy)
    con = duckdb.connect(str(copy))
    sql = "select account_id from marts.dim_accounts order by 1 limit 2"
    first, second = (r[0] for r in con.execute(sql).fetchall())
    for account, copies in ((first, 2), (second, 1)):  # 3 rows of the first, 2 of the second
        for _ in range(copies):
            con.execute(
                "insert into marts.dim_accounts select * from marts.dim_accounts "
                "where account_id = ? limit 1",
                [account],
            )
    con.close()
    target = tmp_path / "target"
    target.mkdir()
    shutil.copy(BUILT_TARGET[0] / "partial_parse.msgpack", target)
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    settings = Settings(built.landing, copy, tmp_path / "serve.duckdb")
    args = ["test", "--select", "unique_dim_accounts_account_id", "--store-failures"]
    assert run_dbt(settings, args, echo=False) == 1

    results = json.loads((target / "run_results.json").read_text())["results"]
    tests = [r for r in results if r["unique_id"].startswith("test.")]  # not the run's hooks
    assert [(r["status"], r["failures"]) for r in tests] == [("fail", 2)]
    compiled = next(target.glob("compiled/**/unique_dim_accounts_account_id.sql")).read_text()
    assert "over (partition by account_id)" in compiled
    con = duckdb.connect(str(copy), read_only=True)
    try:
        schema = con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'unique_dim_accounts_account_id'"
        ).fetchone()[0]
        stored = con.execute(
            f"select * from {schema}.unique_dim_accounts_account_id order by 1"
        ).fetchall()
    finally:
        con.close()
    assert stored == [(first, 3), (second, 2)]


def test_data_freshness_names_the_newest_data_and_warns_when_stale(built, tmp_path, capsys):
    """As of the data's end the build is fresh; 100 days later it is stale: the mart says so
    with the newest data date (worked out here from the staging tables), dbt's log warns, and
    the summary of `outcomes run` says so."""
    import shutil
    from datetime import date, timedelta

    import duckdb
    from conftest import AS_OF

    from customer_outcomes.cli import summarize

    con = duckdb.connect(str(built.warehouse), read_only=True)
    newest = max(
        con.execute(
            f"""select max(event_date) from staging.stg_product__usage_events
            where (is_session_start or is_feature_use) and event_date <= '{AS_OF}'
            union all select max(cast(coalesce(signed_at, start_date) as date))
                from staging.stg_billing__contracts
                where cast(coalesce(signed_at, start_date) as date) <= '{AS_OF}'
            union all select max(cast(responded_at as date)) from staging.stg_surveys__nps_responses
            union all select max(cast(recorded_at as date))
                from staging.stg_success__goal_measurements"""
        ).fetchall()
    )[0]
    fresh = con.execute("select * from marts.fct_data_freshness").df().iloc[0]
    con.close()
    assert fresh["newest_data_date"].date() == newest
    assert not fresh["is_stale"] and fresh["freshness_warn_days"] == 14

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    later = (date.fromisoformat(AS_OF) + timedelta(days=100)).isoformat()
    cmd = [dbt_executable(), "--no-use-colors", "run", "-s", "fct_data_freshness"]
    cmd += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    settings = Settings(built.landing, copy, tmp_path / "serve.duckdb")
    env = os.environ | dbt_env(settings, later) | {"DBT_TARGET_PATH": str(tmp_path / "target")}
    done = subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    days = (date.fromisoformat(later) - newest).days
    assert (
        f"stale data: the as-of date {later} is {days} days past the newest data loaded "
        f"({newest.isoformat()}" in done.stdout
    )
    summarize(settings)
    assert (
        f"WARNING: the data ends on {newest.isoformat()}, {days} days before the as-of date "
        f"{later}" in capsys.readouterr().out
    )


def test_the_contract_page_is_written_from_the_contract():
    """docs/raw-contract.md is what `outcomes contract-doc` writes from contract.py now."""
    from customer_outcomes.contract_doc import DOC_PATH, render

    assert DOC_PATH.read_text() == render(), "run `outcomes contract-doc`"
