"""Ending a process without the interpreter's teardown.

When a command has done its work, Python's normal exit still sweeps every object the process
built: after `outcomes run` (Dagster, GX, pandas and dbt's results in memory) that took 2.0 s,
after a dbt command 1-2 s (its manifest and compiled nodes), all after the last line was
printed. ``exit_without_teardown`` runs what an exit must run (the exit handlers, which also
flush the logs, then the streams) and ends the process with ``os._exit``, skipping the sweep.

A DuckDB database still open in the process at that point would not be checkpointed: its
writes are safe in the WAL, but the next reader would replay it. So the fast exit is taken only
when none of the named databases has a WAL beside it; otherwise the process exits as usual.
DECISIONS.md, "Process exit".
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn


def wal_left(databases: Iterable[Path | str]) -> bool:
    return any(Path(f"{db}.wal").exists() for db in databases if db and str(db) != ":memory:")


def exit_without_teardown(code: int, databases: Iterable[Path | str] = ()) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, minus the final garbage collection."""
    if wal_left(databases):
        sys.exit(code)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
