"""The ``outcomes`` command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
