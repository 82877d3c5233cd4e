"""The benchmark's own arithmetic: scale parsing, the floor-equals-model check, the report."""

import json
import os
import sys

import duckdb
import pytest

from customer_outcomes.bench import (
    Report,
    Stage,
    _check_floor_matches,
    _last_error,
    bench,
    parse_scale,
    render,
    run_stage,
    slowest_nodes,
)

COLUMNS = (
    "account_id varchar, usage_date date, active_users bigint, sessions bigint,"
    " feature_events bigint, distinct_features bigint, distinct_core_features bigint"
)


@pytest.mark.parametrize(
    ("text", "events"),
    [
        ("1M", 1_000_000),
        ("100m", 100_000_000),
        ("250K", 250_000),
        ("1.5M", 1_500_000),
        ("5000", 5000),
    ],
)
def test_parse_scale(text, events):
    assert parse_scale(text) == events


def _warehouse(tmp_path, model_rows, floor_rows):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema bench")
    con.execute(f"create table marts.fct_account_usage_daily ({COLUMNS})")
    con.execute(f"create table bench.floor_account_usage_daily ({COLUMNS})")
    con.executemany("insert into marts.fct_account_usage_daily values (?,?,?,?,?,?,?)", model_rows)
    con.executemany(
        "insert into bench.floor_account_usage_daily values (?,?,?,?,?,?,?)", floor_rows
    )
    con.close()
    return path


def test_the_floor_must_give_the_models_rows(tmp_path):
    row = ("a1", "2026-06-01", 3, 4, 10, 2, 1)
    _check_floor_matches(_warehouse(tmp_path, [row, row], [row, row]))  # equal: no error
    # A row counted once by the floor but twice by the model is a difference (EXCEPT ALL).
    with pytest.raises(RuntimeError, match="differ in 1 rows"):
        _check_floor_matches(_warehouse(tmp_path / "dup", [row, row], [row]))


def test_render_prints_the_ratios_and_the_engine_table():
    report = Report(scale="1M", events_target=1_000_000, accounts=526, memory_limit="4GB")
    report.stages = [Stage("full build: Dagster full_refresh job", 100.0, 2048.0, 1234)]
    # 30 s event path against a 20 s floor: 1.5x; daily build 25 s of 100 s: 25 %.
    report.ratios = {
        "event_path_over_floor": 1.5,
        "event_path_seconds": 30.0,
        "floor_seconds": 20.0,
        "daily_run_over_full_run": 0.25,
        "daily_command_over_full_command": 0.3,
        "daily_dbt_step_over_full_dbt_step": 0.04,
        "peak_mb": 2048.0,
    }
    report.steps = {"daily": {"run": 25.0, "landing_tables": 1.0, "dbt_models": 20.0}}
    report.engines = {
        "postgres": {
            "raw_handover_seconds": 3.0,
            "build_seconds": 61.0,
            "test_seconds": 40.5,
            "models_built": 80,
            "tests_run": 213,
            "event_path_seconds": 2.0,
        }
    }
    report.slowest = {"daily": [("int_renewal_features", 77.4), ("fct_success_gaps", 4.4)]}
    text = render(report)
    assert "longest nodes of the daily build" in text
    assert [x.split() for x in text.splitlines() if x.endswith("fct_success_gaps")] == [
        ["4.4", "fct_success_gaps"]
    ]
    assert "event path / floor = 1.50" in text
    assert "daily run / full run (Dagster runs): 25.0%" in text
    assert "dbt step alone 4.0%; whole `outcomes run` commands 30.0%" in text
    assert "daily: run 25.0 s, landing_tables 1.0 s, dbt_models 20.0 s" in text
    assert "peak memory of the builds: 2,048 MB" in text
    assert "1,234" in text
    line = next(x for x in text.splitlines() if x.startswith("postgres"))
    assert line.split() == ["postgres", "3.0", "61.0", "40.5", "80", "213", "2.0"]


# What a 100 M floor query printed when DuckDB ran out of memory (2026-11-26): a progress bar
# rewritten with carriage returns, then the traceback.
OOM_OUTPUT = (
    "create table ...\n  1% ▕▍    ▏ (~1.7 minutes remaining)\r 41% ▕███▏ (~1.2 minutes remaining)"
    '  Traceback (most recent call last):\n  File "<string>", line 8, in <module>\n'
    "_duckdb.OutOfMemoryException: Out of Memory Error: failed to pin block of size 256.0 KiB"
    " (2.7 GiB/2.7 GiB used)\n\nPossible solutions:\n* Reducing the number of threads\n"
)


def test_a_failed_stage_says_why_in_one_line():
    assert _last_error(OOM_OUTPUT) == (
        "_duckdb.OutOfMemoryException: Out of Memory Error: failed to pin block of size"
        " 256.0 KiB (2.7 GiB/2.7 GiB used)"
    )
    assert _last_error("step 1\nstep 2\n") == "step 2"  # no error line: the last line
    assert _last_error("") == "no output"


def test_run_stage_records_a_failure_instead_of_raising(tmp_path):
    log = tmp_path / "bench.log"
    log.write_text("output of an earlier stage: RuntimeError: not this one\n")
    # Its own output only: no error line there, so its last line, not the earlier stage's.
    script = "import sys; print('working'); sys.exit('the floor ran out of memory')"
    failed = run_stage("floor", [sys.executable, "-c", script], dict(os.environ), log)
    assert failed.error == "exit 1: the floor ran out of memory"
    assert failed.seconds > 0
    ok = run_stage("fine", [sys.executable, "-c", "print('done')"], dict(os.environ), log)
    assert ok.error == ""


def test_a_failed_measurement_is_shown_and_makes_the_cli_fail(tmp_path, monkeypatch, capsys):
    """The floor failing (e.g. out of memory at 100 M) must not hide the stages that ran
    after it, nor pass as a success."""
    import customer_outcomes.bench as bench_module
    from customer_outcomes.cli import main

    report = Report(scale="100M", events_target=100_000_000, accounts=52_632)
    report.stages = [
        Stage("full build: Dagster full_refresh job", 1087.2, 3336.0, 10_551_166),
        Stage("floor: one DuckDB query", 120.5, 3100.0, error="exit 1: Out of Memory Error"),
        Stage("daily build: Dagster refresh job", 44.0, 2700.0, 10_573_909),
    ]
    report.ratios = {
        "event_path_over_floor": None,
        "event_path_seconds": 310.0,
        "floor_seconds": None,
        "daily_run_over_full_run": 0.04,
        "daily_command_over_full_command": 0.05,
        "daily_dbt_step_over_full_dbt_step": 0.03,
        "peak_mb": 3336.0,
    }
    text = render(report)
    assert "FAILED (exit 1: Out of Memory Error)" in text
    assert "floor n/a s; event path / floor = n/a" in text
    assert "(Dagster runs): 4.0%" in text

    monkeypatch.setattr(bench_module, "bench", lambda *a, **k: report)
    monkeypatch.setattr(bench_module, "save", lambda r: tmp_path / "r.json")
    code = main(["bench", "--scale", "100M", "--workdir", str(tmp_path / "w")])
    out = capsys.readouterr()
    assert code == 1
    assert "stage 'floor: one DuckDB query' failed: exit 1: Out of Memory Error" in out.err
    assert "daily build: Dagster refresh job" in out.out


def test_a_failed_required_stage_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    import customer_outcomes.bench as bench_module
    from customer_outcomes.cli import main

    def failing(*args, **kwargs):
        raise RuntimeError(
            "bench stage 'dbt build --full-refresh' failed: exit 1: Out of Memory Error;"
            " see /w/bench.log"
        )

    monkeypatch.setattr(bench_module, "bench", failing)
    code = main(["bench", "--scale", "100M", "--workdir", str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "outcomes bench: bench stage 'dbt build --full-refresh' failed: exit 1: Out of Memory"
        " Error; see /w/bench.log\n"
    )


def test_an_unknown_engine_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"unknown engine\(s\) oracle"):
        bench("1K", tmp_path / "never", engines=("postgres", "oracle"))
    assert not (tmp_path / "never").exists()


def test_the_cli_reports_an_unknown_engine_without_a_traceback(tmp_path, capsys):
    from customer_outcomes.cli import main

    code = main(["bench", "--scale", "1K", "--engines", "oracle", "--workdir", str(tmp_path / "w")])
    assert code == 2
    assert "unknown engine(s) oracle" in capsys.readouterr().err


def test_slowest_nodes_ranks_every_kind_of_node(tmp_path):
    results = [
        {"unique_id": "model.customer_outcomes.fct_a", "execution_time": 2.04},
        {"unique_id": "test.customer_outcomes.unique_b.ab12", "execution_time": 9.96},
        {"unique_id": "seed.customer_outcomes.c", "execution_time": 0.5},
    ]
    (tmp_path / "run_results.json").write_text(json.dumps({"results": results}))
    assert slowest_nodes(tmp_path, 2) == [("unique_b", 10.0), ("fct_a", 2.0)]


@pytest.mark.bench
def test_the_benchmark_runs_end_to_end_at_a_small_scale(tmp_path):
    """Every stage of `outcomes bench` runs, with the commands it really uses (a stage whose
    command fails fails the run): the full and the daily build through the Dagster jobs."""
    report = bench("20K", tmp_path / "bench", progress=lambda _: None)
    stages = {s.name: s for s in report.stages}
    assert report.stages[0].name == "generate"
    for name in ("event path alone (dbt run)", "floor: one DuckDB query"):
        assert stages[name].seconds > 0 and not stages[name].error, name
    full, daily = (
        stages["full build: Dagster full_refresh job"],
        stages["daily build: Dagster refresh job"],
    )
    assert daily.rows > full.rows > 0  # the new day's rows
    assert report.ratios["event_path_over_floor"] > 0
    assert 0 < report.ratios["daily_run_over_full_run"] < 1
    assert set(report.steps["daily"]) == {
        "run",
        "landing_tables",
        "dbt_models",
        "serve_database",
        "outcomes run, outside the run",
    }
    assert report.slowest["daily"]
    log = (tmp_path / "bench" / "bench.log").read_text()
    assert "plan (" in log and "source:product.usage_events+ tag:as_of+" in log
