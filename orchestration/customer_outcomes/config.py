"""Locations and settings, read from environment variables with safe defaults.

The CLI, dbt's ``profiles.yml`` and Dagster read the same variables, so one ``export`` points
every tool at the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    serve: Path

    @classmethod
    def from_env(cls) -> Settings:
        data = PROJECT_DIR / "data"
        return cls(
            landing=Path(os.environ.get("OUTCOMES_LANDING", data / "landing")),
            warehouse=Path(os.environ.get("OUTCOMES_WAREHOUSE", data / "warehouse.duckdb")),
            serve=Path(os.environ.get("OUTCOMES_SERVE", data / "serve.duckdb")),
        )
