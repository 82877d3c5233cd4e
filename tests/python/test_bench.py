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
    report.stages = [Stage("dbt build --full-refresh", 100.0, 2048.0, 1234)]
    # 30 s event path against a 20 s floor: 1.5x; incremental build 25 s of 100 s: 25 %.
    report.ratios = {
        "event_path_over_floor": 1.5,
        "event_path_seconds": 30.0,
        "floor_seconds": 20.0,
        "incremental_build_over_full_build": 0.25,
        "incremental_models_over_full": 0.04,
    }
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
    report.slowest = {"incremental": [("int_renewal_features", 77.4), ("fct_success_gaps", 4.4)]}
    text = render(report)
    assert "longest nodes of the incremental build" in text
    assert [x.split() for x in text.splitlines() if x.endswith("fct_success_gaps")] == [
        ["4.4", "fct_success_gaps"]
    ]
    assert "event path / floor = 1.50" in text
    assert "whole dbt build 25.0%" in text
    assert "incremental event models 4.0%" in text
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
        Stage("dbt build --full-refresh", 1087.2, 3336.0, 10_551_166),
        Stage("floor: one DuckDB query", 120.5, 3100.0, error="exit 1: Out of Memory Error"),
        Stage("dbt build (incremental)", 44.0, 2700.0, 10_573_909),
    ]
    report.ratios = {
        "event_path_over_floor": None,
        "event_path_seconds": 310.0,
        "floor_seconds": None,
        "incremental_build_over_full_build": 0.04,
        "incremental_models_over_full": 0.011,
    }
    text = render(report)
    assert "FAILED (exit 1: Out of Memory Error)" in text
    assert "floor n/a s; event path / floor = n/a" in text
    assert "whole dbt build 4.0%" in text

    monkeypatch.setattr(bench_module, "bench", lambda *a, **k: report)
    monkeypatch.setattr(bench_module, "save", lambda r: tmp_path / "r.json")
    code = main(["bench", "--scale", "100M", "--workdir", str(tmp_path / "w")])
    out = capsys.readouterr()
    assert code == 1
    assert "stage 'floor: one DuckDB query' failed: exit 1: Out of Memory Error" in out.err
    assert "dbt build (incremental)" in out.out


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


@pytest.mark.parametrize(("keep", "as_of"), [(True, "2026-07-04"), (False, "2026-06-30")])
def test_a_reused_warehouse_is_built_as_of_its_last_event_day(tmp_path, monkeypatch, keep, as_of):
    """Earlier runs appended days (up to 07-04) to the reused data: the full build is as of
    the last of them, so the daily build after it moves the date by one day. A fresh run is
    as of the generated data's last day (2026-06-30). Every stage records the date it ran as
    of; the full build fails here so nothing after it runs."""
    import customer_outcomes.bench as bench_module

    workdir = tmp_path / "bench"
    workdir.mkdir()
    con = duckdb.connect(str(workdir / "warehouse.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.usage_events (event_id varchar, occurred_at timestamp)")
    con.execute(
        "insert into raw.usage_events values"
        " ('e1', '2026-06-30 10:00'), ('e2', '2026-07-04 23:59'), ('e3', '2026-07-03 08:00')"
    )
    con.close()
    seen = {}

    def fake_stage(name, cmd, env, log):
        seen[name] = env[bench_module.AS_OF_ENV]
        failed = "dbt build --full-refresh" in name
        return Stage(name, 0.1, 1.0, error="exit 1: stop here" if failed else "")

    monkeypatch.setattr(bench_module, "run_stage", fake_stage)
    monkeypatch.setattr(bench_module, "_count", lambda warehouse, sql: 0)
    with pytest.raises(RuntimeError, match="stop here"):
        bench("1K", workdir, keep=keep, progress=lambda _: None)
    assert seen["dbt build --full-refresh"] == as_of
    if not keep:  # generated as of the end date
        assert seen["generate"] == "2026-06-30"


@pytest.mark.bench
def test_the_benchmark_runs_end_to_end_at_a_small_scale(tmp_path):
    """Every stage of `outcomes bench` runs, with the dbt commands and options it really uses
    (a stage whose command dbt refuses fails the run)."""
    report = bench("20K", tmp_path / "bench", progress=lambda _: None)
    stages = {s.name: s for s in report.stages}
    assert report.stages[0].name == "generate"
    for name in (
        "dbt build --full-refresh",
        "event path alone (dbt run)",
        "floor: one DuckDB query",
    ):
        assert stages[name].seconds > 0, name
    incremental = stages["dbt build (incremental)"]
    assert incremental.rows > stages["dbt build --full-refresh"].rows > 0  # the new day's rows
    assert report.ratios["event_path_over_floor"] > 0
    assert report.slowest["incremental"]
    # The daily build is the scheduled job's: what the new day and the moved date changed.
    log = (tmp_path / "bench" / "bench.log").read_text()
    assert "loads into usage_events and the date moved" in log
    assert not stages["dbt build (every node)"].error
    assert report.ratios["every_node_daily_build_over_full_build"] > 0
    # The full build trained the renewal model as of the data's last day, Tuesday 2026-06-30
    # (training date: Monday 06-29); the daily builds of Wednesday 07-01 and Thursday 07-02
    # reuse that training.
    for load, build in (
        ("load new day (+ late events)", "dbt build (incremental)"),
        ("load the day after", "dbt build (every node)"),
    ):
        assert stages[load].note.split("rows for ")[1].startswith(("2026-07-01", "2026-07-02"))
        assert stages[build].note.endswith("the week's renewal training reused"), stages[build]


def test_the_training_note_says_trained_only_for_a_new_stored_training():
    from customer_outcomes.bench import _training_note

    assert _training_note({"renewal-a.pkl"}, {"renewal-a.pkl", "renewal-b.pkl"}).endswith(
        "renewal model trained"
    )
    # The oldest kept file removed, nothing new: reused.
    assert _training_note({"renewal-a.pkl", "renewal-b.pkl"}, {"renewal-b.pkl"}).endswith(
        "the week's renewal training reused"
    )


def test_the_bench_finds_the_trainings_where_the_renewal_models_keep_them(tmp_path):
    from customer_outcomes.bench import _renewal_trainings

    beside = tmp_path / "renewal_models"
    beside.mkdir()
    (beside / "renewal-a.pkl").write_bytes(b"")
    env = {"OUTCOMES_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    assert _renewal_trainings(env) == {"renewal-a.pkl"}
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "renewal-b.pkl").write_bytes(b"")
    assert _renewal_trainings({**env, "OUTCOMES_MODEL_CACHE": str(moved)}) == {"renewal-b.pkl"}


def test_the_floor_runs_again_once_after_running_out_of_memory():
    from customer_outcomes.bench import floor_with_retry

    def runner(*errors):
        ran, outcomes = [], iter(errors)

        def run(name):
            ran.append(name)
            return Stage(name, 1.0, 100.0, error=next(outcomes))

        return ran, run

    oom = "exit 1: _duckdb.OutOfMemoryException: Out of Memory Error: could not allocate block"
    pauses = []
    ran, run = runner(oom, "")
    floor = floor_with_retry(run, pause=7, sleep=pauses.append)
    assert ran == ["floor: one DuckDB query", "floor: again, same query"] and pauses == [7]
    assert floor.name == "floor: again, same query" and floor.error == ""
    # Out of memory twice: the second failure is the outcome, and it is not retried again.
    ran, run = runner(oom, oom)
    floor = floor_with_retry(run, pause=0, sleep=pauses.append)
    assert len(ran) == 2 and floor.error == oom and not floor.retried
    # Any other failure is the outcome at once.
    ran, run = runner("exit 1: SyntaxError", "")
    assert floor_with_retry(run, pause=0, sleep=pauses.append).error == "exit 1: SyntaxError"
    assert ran == ["floor: one DuckDB query"]


def test_a_failure_that_passed_when_run_again_is_shown_but_does_not_fail_the_cli(
    tmp_path, monkeypatch, capsys
):
    import customer_outcomes.bench as bench_module
    from customer_outcomes.cli import main

    report = Report(scale="100M", events_target=100_000_000, accounts=52_632)
    oom = "exit 1: Out of Memory Error"
    report.stages = [
        Stage("floor: one DuckDB query", 82.4, 3177.0, error=oom, retried=True),
        Stage("floor: again, same query", 201.0, 3300.0, 10_551_166, note="query 200.1 s"),
    ]
    report.ratios = {
        "event_path_over_floor": 0.7,
        "event_path_seconds": 140.0,
        "floor_seconds": 200.1,
        "incremental_build_over_full_build": 0.058,
        "incremental_models_over_full": 0.019,
    }
    text = render(report)
    assert f"FAILED ({oom}); run again below" in text
    assert "query 200.1 s" in text
    monkeypatch.setattr(bench_module, "bench", lambda *a, **k: report)
    monkeypatch.setattr(bench_module, "save", lambda r: tmp_path / "r.json")
    assert main(["bench", "--scale", "100M", "--workdir", str(tmp_path / "w")]) == 0
    assert "failed" not in capsys.readouterr().err
