"""The ``outcomes`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest
from conftest import another_writer

from customer_outcomes.cli import main


@pytest.mark.parametrize("command", ["generate", "load", "build", "run"])
def test_every_subcommand_has_help(command):
    proc = subprocess.run(
        [sys.executable, "-m", "customer_outcomes.cli", command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "usage: outcomes" in proc.stdout


def test_build_starts_without_the_data_libraries():
    """`outcomes build` hands over to dbt at once: numpy, pandas and the loader's modules are
    imported by the commands that use them (0.3 s of every daily build's start, measured)."""
    heavy = ["numpy", "pandas", "customer_outcomes.load", "customer_outcomes.gx_suites"]
    code = f"import sys, customer_outcomes.cli; print([m for m in {heavy!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_load_of_a_missing_landing_dir_says_so(tmp_path, capsys):
    code = main(
        ["load", "--landing", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")]
    )
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_generate_writes_to_out(tmp_path):
    code = main(
        [
            "generate",
            "--accounts",
            "5",
            "--days",
            "90",
            "--seed",
            "1",
            "--end-date",
            "2026-01-31",
            "--out",
            str(tmp_path / "l"),
        ]
    )
    assert code == 0
    assert (tmp_path / "l" / "usage_events").is_dir()


def test_run_summary_reports_the_marts(built, capsys):
    from customer_outcomes.cli import check_marts, summarize

    assert check_marts(built)
    summarize(built)
    out = capsys.readouterr().out
    assert "GRR" in out and "NRR" in out and "latest NPS" in out
    assert "success gaps:" in out and "usage trap:" in out and "renewal risk:" in out


def test_run_on_a_named_landing_dir_that_is_missing_or_empty_says_so(tmp_path, capsys):
    """Only the default landing folder gets the demo data: a folder the user names that does
    not exist, or is empty before any warehouse exists, is one line and exit 2."""
    missing = tmp_path / "typo"
    warehouse = ["--warehouse", str(tmp_path / "w.duckdb"), "--serve", str(tmp_path / "s.duckdb")]
    assert main(["run", "--landing", str(missing), *warehouse]) == 2
    err = capsys.readouterr().err
    assert f"landing directory {missing} does not exist" in err and err.count("\n") == 1
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["run", "--landing", str(empty), *warehouse]) == 2
    assert f"no landing files in {empty} and no warehouse yet" in capsys.readouterr().err
    assert not any(empty.iterdir()) and not (tmp_path / "w.duckdb").exists()


def test_a_failed_step_is_reported_with_its_error(tmp_path):
    """A run's report names the failed step and the first line of the error it raised."""
    from dagster import DagsterInstance, job, op

    from customer_outcomes.cli import run_report

    @op
    def landing_tables():
        raise ValueError("the landing folder is gone\nsecond line")

    @op
    def serve_database(_loaded):
        pass

    @job
    def refresh():
        serve_database(landing_tables())

    with DagsterInstance.ephemeral() as instance:
        result = refresh.execute_in_process(instance=instance, raise_on_error=False)
        report = run_report(instance, result, tmp_path)
    assert report[0].startswith("  landing_tables: failure in ")
    # Dagster's own error line for the step left out is not repeated.
    assert report[1:] == [
        "  not run, after the failed step: serve_database",
        "step failed: landing_tables: ValueError: the landing folder is gone",
    ]


def test_the_report_shows_the_warnings_of_steps_but_not_of_dbt_steps(tmp_path):
    """The loader's warnings reach the report; dbt's steps have their counts line instead."""
    from dagster import DagsterInstance, job, op

    from customer_outcomes.cli import run_report

    @op
    def landing_tables(context):
        context.log.warning("warning: no data for nps_responses\nsecond line")

    @op
    def dbt_models(context, _loaded):
        context.log.warning("Logging an `AssetObservation` instead of an `AssetCheckResult`")

    @job
    def refresh():
        dbt_models(landing_tables())

    with DagsterInstance.ephemeral() as instance:
        result = refresh.execute_in_process(instance=instance)
        report = run_report(instance, result, tmp_path)
    assert report[1:] == [
        "  dbt_models: success in " + report[1].split(" in ")[1],
        "    dbt: no run results",
        "  warning: no data for nps_responses",
    ]


def test_dbt_counts_name_the_first_failed_nodes(tmp_path):
    from customer_outcomes.cli import dbt_counts

    def node(uid: str, status: str, message: str | None = None) -> dict:
        return {"unique_id": uid, "status": status, "message": message}

    results = [
        node("model.customer_outcomes.dim_accounts", "success"),
        node(
            "model.customer_outcomes.fct_renewals",
            "error",
            "Runtime Error in model fct_renewals (models/fct_renewals.sql)\n  Binder Error: no "
            "column x\n  LINE 3: select x",
        ),
        node("test.customer_outcomes.not_null_fct_a_id.1a2b", "fail", "Got 2 results"),
        node("test.customer_outcomes.unique_fct_a_id.3c4d", "pass"),
        node("test.customer_outcomes.unique_fct_b_id.5e6f", "fail", "Got 1 result"),
        node("test.customer_outcomes.unique_fct_c_id.7a8b", "fail", "Got 3 results"),
        node("model.customer_outcomes.fct_success_gaps", "skipped"),
        # Hooks and exposures are not counted as built.
        node("operation.customer_outcomes.customer_outcomes-on-run-start-0", "success"),
        node("exposure.customer_outcomes.success_gap_dashboard", "no-op"),
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    assert dbt_counts(tmp_path) == (
        "1 built, 1 passed, 0 warned, 3 failed, 1 error, 1 skipped; failed: fct_renewals "
        "(Binder Error: no column x); not_null_fct_a_id (Got 2 results); unique_fct_b_id "
        "(Got 1 result) and 1 more"
    )
    assert dbt_counts(tmp_path / "nowhere") == "no run results"
    hook = node("operation.customer_outcomes.customer_outcomes-on-run-end-0", "error", "boom")
    (tmp_path / "run_results.json").write_text(json.dumps({"results": [hook]}))
    assert dbt_counts(tmp_path) == (
        "0 passed, 0 warned, 0 failed, 1 error; failed: customer_outcomes-on-run-end-0 (boom)"
    )


def test_run_while_another_process_writes_the_warehouse_says_so(tmp_path, capsys):
    """DuckDB allows one writer: a run started while another holds the warehouse is one line."""
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    args = ["run", "--warehouse", str(warehouse), "--serve", str(tmp_path / "s.duckdb")]
    with another_writer(warehouse) as writer:
        assert main([*args, "--landing", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"outcomes run: error: warehouse {warehouse} is in use by another process "
        f"(PID {writer.pid}): wait for it to end (DuckDB allows one writer)\n"
    )
