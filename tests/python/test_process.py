"""Process exit without the interpreter's teardown (process.py, dbt_main.py, cli.entry)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

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
