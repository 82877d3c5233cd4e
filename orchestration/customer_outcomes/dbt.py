"""Run dbt for this project with the same environment the CLI uses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .config import PROJECT_DIR, Settings

# The as_of date dbt reads (macros/as_of_date.sql) when no `as_of_date` var is given. Passed
# by environment because a changed --vars value makes dbt parse the whole project again.
AS_OF_ENV = "OUTCOMES_AS_OF_DATE"


@contextmanager
def as_of_env(as_of: str | None) -> Iterator[None]:
    """Set (or, for None, leave as it is) the as_of date for dbt runs started inside."""
    previous = os.environ.get(AS_OF_ENV)
    if as_of:
        os.environ[AS_OF_ENV] = as_of
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(AS_OF_ENV, None)
        else:
            os.environ[AS_OF_ENV] = previous


def dbt_executable() -> str:
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["OUTCOMES_WAREHOUSE"] = str(settings.warehouse.resolve())
    env["OUTCOMES_LANDING"] = str(settings.landing.resolve())
    env["OUTCOMES_SERVE"] = str(settings.serve.resolve())
    env.setdefault("OUTCOMES_TEMP_DIR", str(settings.warehouse.resolve().parent / "duckdb_tmp"))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def run_dbt(
    settings: Settings,
    args: Sequence[str],
    as_of: str | None = None,
    echo: bool = True,
) -> int:
    """Run ``dbt <args>`` in the project, streaming its log; returns the exit code."""
    colors = [] if sys.stdout.isatty() else ["--no-use-colors"]
    cmd = [
        dbt_executable(),
        *colors,
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
    ]
    env = dbt_env(settings)
    if as_of:
        env[AS_OF_ENV] = as_of
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if echo:
            sys.stdout.write(line)
            sys.stdout.flush()
    return proc.wait()
