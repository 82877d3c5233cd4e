"""``outcomes-dbt``: dbt's own command line, ended without the interpreter's teardown.

Every dbt command the project runs (`outcomes build`, the Dagster job's dbt step, the manifest
parse, the bench) runs this instead of the ``dbt`` script. It runs dbt's command line
unchanged, with two differences in how the process spends its time, none in what dbt does:

* the objects imported before dbt starts (dbt, its adapters, their libraries) are moved out of
  the garbage collector's sweeps (``gc.freeze``): a full parse collects many times over them;
* after dbt returns, the process closes dbt-duckdb's database (the checkpoint that writes the
  WAL into the file) and ends through ``process.exit_without_teardown``, skipping the sweep of
  everything dbt built (manifest, compiled nodes): 1-2 s after dbt had finished.

The fast exit is taken only when it loses nothing: no adapter but DuckDB's was loaded (none is
opened by ``dbt parse``) and, once the database is closed, no WAL is left beside it (a
connection still open elsewhere would keep it). Otherwise the process exits as usual.
``dbt`` itself still works as it always did. DECISIONS.md, "Process exit".
"""

from __future__ import annotations

import gc
import sys

from dbt.cli.main import cli

from .process import exit_without_teardown


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


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
    try:
        cli()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    try:
        databases = duckdb_closed()
    except Exception:  # an adapter whose internals changed: exit as usual
        databases = None
    if databases is None:
        sys.exit(code)
    exit_without_teardown(code, databases)


if __name__ == "__main__":
    main()
