"""``outcomes-dbt``: dbt's own command line, ended without the interpreter's teardown.

Every dbt command the project runs (`outcomes build`, the Dagster job's dbt step, the manifest
parse, the bench) runs this instead of the ``dbt`` script. It runs dbt's command line
unchanged, with three differences in how the process spends its time, none in what dbt does:

* the objects imported before dbt starts (dbt, its adapters, their libraries) are moved out of
  the garbage collector's sweeps (``gc.freeze``): a full parse collects many times over them;
* the nodes that are ready to run start longest path first (``schedule_longest_path_first``):
  dbt orders them by their depth in the graph, so a long chain (the snapshot models, the
  renewal features, the renewal model) could wait behind short nodes while the other thread
  ran out of work at the end. The lengths are each node's last time, kept beside the
  warehouse (config.node_seconds_path: every run's run_results.json merged in, whatever its
  target path, so the Dagster job's runs count too); with none, dbt's order stays. Only the
  order changes: a node still starts after everything it depends on, and the same nodes run;
* after dbt returns, the process closes dbt-duckdb's database (the checkpoint that writes the
  WAL into the file) and ends through ``process.exit_without_teardown``, skipping the sweep of
  everything dbt built (manifest, compiled nodes): 1-2 s after dbt had finished.

The fast exit is taken only when it loses nothing: no adapter but DuckDB's was loaded (none is
opened by ``dbt parse``) and, once the database is closed, no WAL is left beside it (a
connection still open elsewhere would keep it). Otherwise the process exits as usual.
``dbt`` itself still works as it always did. DECISIONS.md, "Process exit".
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import networkx as nx
from dbt.cli.main import cli

from .config import node_seconds_path
from .process import exit_without_teardown


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


# A node the previous run did not time (new, or not selected then): a short one.
UNTIMED_SECONDS = 0.1


def longest_path_scores(graph: nx.DiGraph, seconds: Mapping[str, float]) -> dict[str, float]:
    """dbt's queue takes the lowest score first: minus the longest path from each node to the
    end of the graph (its own time plus the longest of its successors')."""
    scores: dict[str, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        rest = max((-scores[s] for s in graph.successors(node)), default=0.0)
        scores[node] = -(seconds.get(node, UNTIMED_SECONDS) + rest)
    return scores


def previous_seconds(path: Path) -> dict[str, float]:
    """The nodes' last times kept in ``path`` ({} when none or unreadable)."""
    try:
        seconds = json.loads(path.read_text())
        return {str(k): float(v) for k, v in seconds.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def record_seconds(run_results: Path, path: Path, since: float) -> None:
    """Merge the times of ``run_results`` (when this run wrote it, after ``since``) into
    ``path``: the nodes it ran get their new time, the others keep theirs."""
    if not run_results.exists() or run_results.stat().st_mtime < since:
        return
    results = json.loads(run_results.read_text())["results"]
    seconds = previous_seconds(path)
    seconds.update({r["unique_id"]: float(r["execution_time"] or 0.0) for r in results})
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(json.dumps(seconds, sort_keys=True))
    part.replace(path)


def _target_path() -> Path:
    from dbt.flags import get_flags

    flags = get_flags()
    target = Path(getattr(flags, "TARGET_PATH", None) or "target")
    return target if target.is_absolute() else Path(flags.PROJECT_DIR or ".") / target


def schedule_longest_path_first() -> None:
    """Make dbt's queue score nodes by ``longest_path_scores`` (dbt's own scores when the
    previous times are missing or anything fails)."""
    from dbt.graph.queue import GraphQueue

    by_depth = GraphQueue._get_scores

    def _get_scores(self, graph):
        try:
            seconds = previous_seconds(node_seconds_path())
            if seconds:
                return longest_path_scores(graph, seconds)
        except Exception:  # a dbt whose flags or graph changed shape: its own order
            pass
        return by_depth(self, graph)

    GraphQueue._get_scores = _get_scores


def duckdb_closed() -> list[str] | None:
    """Close dbt-duckdb's database. The databases to check for a WAL, or None when another
    adapter was loaded (its connections are left to the normal exit)."""
    from dbt.adapters.factory import FACTORY

    if set(FACTORY.adapters) - {"duckdb"}:
        return None
    if "duckdb" not in FACTORY.adapters:
        return []
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is None:
        return []
    env.close()
    return [env.creds.path]


def main() -> None:
    gc.freeze()  # what the imports built stays: no sweep needs to visit it again
    schedule_longest_path_first()
    started = time.time()
    try:
        cli()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    with contextlib.suppress(Exception):  # the times only order the next build
        record_seconds(_target_path() / "run_results.json", node_seconds_path(), started)
    try:
        databases = duckdb_closed()
    except Exception:  # an adapter whose internals changed: exit as usual
        databases = None
    if databases is None:
        sys.exit(code)
    exit_without_teardown(code, databases)


if __name__ == "__main__":
    main()
