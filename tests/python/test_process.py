"""Process exit without the interpreter's teardown (process.py, dbt_main.py, cli.entry)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import networkx as nx
import pytest

from customer_outcomes import cli, dbt_main
from customer_outcomes.config import PROJECT_DIR, Settings
from customer_outcomes.dbt import dbt_env, dbt_executable

# A child that marks three things: an exit handler ran, its output arrived, and whether the
# interpreter's teardown ran (a module-level object's __del__ only runs in the teardown).
CHILD = textwrap.dedent(
    """
    import atexit, sys
    from pathlib import Path
    from customer_outcomes.process import exit_without_teardown

    out = Path(sys.argv[1])

    class Swept:
        def __del__(self):
            (out / "swept").write_text("yes")

    swept = Swept()
    atexit.register(lambda: (out / "atexit").write_text("yes"))
    print("last line", flush=False)
    exit_without_teardown(3, [out / "w.duckdb"])
    """
)


def _child(tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, check=False
    )


def test_the_fast_exit_keeps_the_code_the_output_and_the_exit_handlers(tmp_path):
    proc = _child(tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == "last line\n"
    assert (tmp_path / "atexit").exists()
    assert not (tmp_path / "swept").exists()  # the teardown was skipped


def test_a_wal_left_beside_a_database_means_the_usual_exit(tmp_path):
    (tmp_path / "w.duckdb.wal").write_bytes(b"")
    proc = _child(tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == "last line\n"
    assert (tmp_path / "atexit").exists()
    assert (tmp_path / "swept").exists()  # the usual teardown ran


def test_outcomes_dbt_is_the_dbt_the_project_runs():
    assert Path(dbt_executable()).name == "outcomes-dbt"


def _dbt(tmp_path: Path, executable: str, *args: str) -> subprocess.CompletedProcess:
    settings = Settings(
        landing=tmp_path / "landing", warehouse=tmp_path / "w.duckdb", serve=tmp_path / "s.duckdb"
    )
    env = dbt_env(settings)
    env["DBT_TARGET_PATH"] = str(tmp_path / "target")
    env["DBT_LOG_PATH"] = str(tmp_path / "logs")
    exe = str(Path(dbt_executable()).with_name(executable))
    project = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    cmd = [exe, "--no-use-colors", *args, *project]
    return subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)


def test_outcomes_dbt_writes_checkpointed_tables_and_exits_as_dbt_does(tmp_path):
    proc = _dbt(tmp_path, "outcomes-dbt", "seed", "--select", "health_weights")
    assert proc.returncode == 0, proc.stdout
    assert "Completed successfully" in proc.stdout
    # The database was closed before the fast exit: its writes are in the file, no WAL.
    assert not (tmp_path / "w.duckdb.wal").exists()
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from reference.health_weights").fetchone()[0] == 5
    failed = [
        _dbt(tmp_path, name, "run", "--select", "no_such_model", "--warn-error")
        for name in ("outcomes-dbt", "dbt")
    ]
    assert failed[0].returncode == failed[1].returncode != 0


def test_another_adapter_is_left_to_the_usual_exit(monkeypatch):
    from dbt.adapters.factory import FACTORY

    monkeypatch.setattr(FACTORY, "adapters", {"postgres": object()})
    assert dbt_main.duckdb_closed() is None
    monkeypatch.setattr(FACTORY, "adapters", {})
    assert dbt_main.duckdb_closed() == []


ENTRY = textwrap.dedent(
    """
    import atexit, gc, sys
    from customer_outcomes import cli

    atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0))
    sys.argv = ["outcomes", *sys.argv[1:]]
    cli.entry()
    """
)


def test_only_the_outcomes_script_freezes_and_ends_fast(tmp_path):
    landing = str(tmp_path / "nope")
    args = ["load", "--landing", landing, "--warehouse", str(tmp_path / "w.duckdb")]
    before = gc.get_freeze_count()
    assert cli.main(args) == 1  # in a process that goes on, nothing is frozen
    assert gc.get_freeze_count() == before
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1  # main's code, through the fast exit
    assert "does not exist" in proc.stdout
    assert proc.stdout.endswith("frozen True\n")


def test_longest_path_scores_worked_by_hand():
    # a (1 s) -> b (5 s) -> c (1 s); a -> e (0.5 s); d (3 s) alone; f never timed (0.1 s).
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "e")])
    graph.add_nodes_from(["d", "f"])
    seconds = {"a": 1.0, "b": 5.0, "c": 1.0, "d": 3.0, "e": 0.5}
    scores = dbt_main.longest_path_scores(graph, seconds)
    # a: 1 + max(b 5 + c 1, e 0.5) = 7; b: 6; c: 1; d: 3; e: 0.5; f: 0.1
    assert scores == pytest.approx({"a": -7, "b": -6, "c": -1, "d": -3, "e": -0.5, "f": -0.1})
    # dbt's depth order would run d (depth 0) before b (depth 1); the longest path runs b first
    assert sorted(scores, key=scores.get) == ["a", "b", "d", "c", "e", "f"]


def test_the_nodes_times_are_merged_run_after_run(tmp_path):
    times = tmp_path / "dbt_node_seconds.json"
    assert dbt_main.previous_seconds(times) == {}
    times.write_text("{not json")
    assert dbt_main.previous_seconds(times) == {}
    run_results = tmp_path / "run_results.json"

    def ran(**seconds):
        results = [{"unique_id": k, "execution_time": v} for k, v in seconds.items()]
        run_results.write_text(json.dumps({"results": results}))

    ran(a=2.5, b=1.0)
    dbt_main.record_seconds(run_results, times, since=0)
    ran(b=4.0)  # a later, selective run: b's time changes, a keeps its own
    dbt_main.record_seconds(run_results, times, since=0)
    assert dbt_main.previous_seconds(times) == {"a": 2.5, "b": 4.0}
    ran(a=9.0)  # a run_results.json older than the run (the run wrote none): not merged
    dbt_main.record_seconds(run_results, times, since=run_results.stat().st_mtime + 60)
    assert dbt_main.previous_seconds(times) == {"a": 2.5, "b": 4.0}


def test_outcomes_dbt_runs_the_longest_timed_node_first(tmp_path):
    def order() -> list[str]:
        results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
        return [
            r["unique_id"].rsplit(".", 1)[-1] for r in results if r["unique_id"].startswith("seed.")
        ]

    seeds = ["--select", "health_weights", "playbooks", "customer_view_weights", "--threads", "1"]
    assert _dbt(tmp_path, "outcomes-dbt", "seed", *seeds).returncode == 0
    # Each run's times are kept beside the warehouse (tmp_path/w.duckdb).
    times = tmp_path / "dbt_node_seconds.json"
    assert {"seed.customer_outcomes.playbooks"} <= set(dbt_main.previous_seconds(times))
    # On one thread, run_results lists the nodes in the order they ran. Time playbooks as the
    # longest and customer_view_weights as the shortest: the next run takes them in that order.
    timed = {"playbooks": 9.0, "health_weights": 5.0, "customer_view_weights": 1.0}
    times.write_text(json.dumps({f"seed.customer_outcomes.{k}": v for k, v in timed.items()}))
    assert _dbt(tmp_path, "outcomes-dbt", "seed", *seeds).returncode == 0
    assert order() == ["playbooks", "health_weights", "customer_view_weights"]
    # dbt's own order for nodes of one depth: by name.
    assert _dbt(tmp_path, "dbt", "seed", *seeds).returncode == 0
    assert order() == ["customer_view_weights", "health_weights", "playbooks"]
