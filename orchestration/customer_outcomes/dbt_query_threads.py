"""A dbt-duckdb plugin (profiles.yml, ``plugins``) that opens the warehouse with the number of
DuckDB threads per query that the build asks for through ``OUTCOMES_QUERY_THREADS``, instead of
the profile's ``threads`` (OUTCOMES_THREADS), when that variable is set.

`outcomes build` and the Dagster job set it for an incremental build (spill.plan_build): its
queries read a day's data, so running dbt's threads side by side, one DuckDB thread each, uses
the cores better than each query splitting its small work across all of them (DECISIONS.md,
"Threads per query in an incremental build"). A full build, whose event queries read the whole
history, keeps all of them per query.

The variable is read here, when the database opens, and not in profiles.yml: dbt parses the
whole project again whenever the profile renders differently, so a per-build value there
would cost every daily build a full parse.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from .config import QUERY_THREADS_ENV


def query_threads(env: dict[str, str] | os._Environ = os.environ) -> int | None:
    """The DuckDB threads per query asked for (a positive integer), None when not asked."""
    value = env.get(QUERY_THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{QUERY_THREADS_ENV} must be a positive integer, not {value!r}")
    return int(value)


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        threads = query_threads()
        if threads is not None:
            config["threads"] = threads
