"""Locations and settings, read from environment variables with safe defaults.

The CLI, dbt's ``profiles.yml`` and Dagster read the same variables, so one ``export`` points
every tool at the same files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# The as_of date dbt reads (macros/as_of_date.sql) when no `as_of_date` var is given. Passed
# by environment because a changed --vars value makes dbt parse the whole project again.
AS_OF_ENV = "OUTCOMES_AS_OF_DATE"
# The Dagster instance (run history, schedules) of `outcomes run` and `make dev`.
DAGSTER_HOME = PROJECT_DIR / ".dagster"


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    serve: Path

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder of the Dagster jobs' builds of this warehouse: the artifacts and
        dbt.log of the latest build (each run's history is in Dagster)."""
        return self.warehouse.resolve().parent / f"{self.warehouse.stem}_dbt_target"

    @property
    def dbt_state(self) -> Path:
        """dbt's artifacts of the last successful build of this warehouse (manifest.json), which
        a daily refresh compares the project with (`state:modified+`)."""
        return self.warehouse.resolve().parent / f"{self.warehouse.stem}_dbt_state"

    @classmethod
    def from_env(cls) -> Settings:
        data = PROJECT_DIR / "data"
        return cls(
            landing=Path(os.environ.get("OUTCOMES_LANDING", data / "landing")),
            warehouse=Path(os.environ.get("OUTCOMES_WAREHOUSE", data / "warehouse.duckdb")),
            serve=Path(os.environ.get("OUTCOMES_SERVE", data / "serve.duckdb")),
        )


# DuckDB's memory_limit caps its buffer manager only; the process's resident memory runs some
# hundreds of MB above it (measured at 100 M events: 4.47 GB peak under a 4GB limit). 3GB keeps
# the whole process under 4 GB on a few-GB machine; beyond it DuckDB spills to the temp dir.
DEFAULT_MEMORY_LIMIT = "3GB"
DEFAULT_THREADS = "2"


def threads() -> int:
    """OUTCOMES_THREADS: DuckDB's threads and dbt's, and the renewal training's workers."""
    return int(os.environ.get("OUTCOMES_THREADS", DEFAULT_THREADS))


def model_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the renewal training is kept between runs (OUTCOMES_MODEL_CACHE; by default
    renewal_models/ next to the warehouse, so each warehouse has its own), as ``env`` (by
    default this process's environment) places them."""
    env = os.environ if env is None else env
    cache = env.get("OUTCOMES_MODEL_CACHE")
    if cache:
        return Path(cache)
    data = PROJECT_DIR / "data"
    return Path(env.get("OUTCOMES_WAREHOUSE", data / "warehouse.duckdb")).resolve().parent / (
        "renewal_models"
    )


def duckdb_limits(warehouse: Path) -> dict[str, str]:
    """memory_limit, threads and temp_directory for a DuckDB connection of the CLI, from the
    same variables and with the same defaults as the dbt profile."""
    temp = os.environ.get("OUTCOMES_TEMP_DIR") or str(warehouse.resolve().parent / "duckdb_tmp")
    return {
        "memory_limit": os.environ.get("OUTCOMES_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        "threads": str(threads()),
        "temp_directory": temp,
    }


def apply_duckdb_limits(con, warehouse: Path) -> None:
    for name, value in duckdb_limits(warehouse).items():
        con.execute(f"set {name} = '{value}'" if name != "threads" else f"set threads = {value}")


def locked_by_another_process(exc: Exception) -> bool:
    """Whether DuckDB refused to open a file because another process holds it (one writer or
    many readers per file)."""
    import duckdb

    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()
