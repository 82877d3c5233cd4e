"""Resources and the dbt project, located by the same environment variables as the CLI."""

from __future__ import annotations

import os
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from ..config import PROJECT_DIR, Settings
from ..dbt import DEFINITIONS_MANIFEST, current_manifest, dbt_executable

DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
assert DBT_PROJECT.manifest_path == DEFINITIONS_MANIFEST


def manifest_path() -> Path:
    """The dbt manifest the definitions read, parsed first when missing or older than the
    project's dbt files (prepare_if_dev only acts under `dagster dev`; a stale manifest
    would name models that no longer exist, or miss new ones). Waits for a parse that
    `outcomes run` started in the background."""
    return current_manifest(DEFINITIONS_MANIFEST)


class OutcomesDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without the two things it does before every dbt command that
    this project does not use (4.4 s of each run, measured):

    - `dbt --version` in a subprocess (2.7 s) to learn the version: the executable is this
      environment's own dbt, so the installed dbt-core package says it;
    - a dbt adapter opened in this process (1.7 s), which only `fetch_row_counts()` and
      `fetch_column_metadata()` read; the assets call neither. It also means this process
      holds no handle on the warehouse while dbt writes to it."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(installed_version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


class OutcomesSettings(ConfigurableResource):
    """Where the landing files, the build database and the serve database are."""

    landing: str = ""
    warehouse: str = ""
    serve: str = ""
    as_of: str = ""

    def settings(self) -> Settings:
        base = Settings.from_env()
        return Settings(
            landing=Path(self.landing or base.landing),
            warehouse=Path(self.warehouse or base.warehouse),
            serve=Path(self.serve or base.serve),
        )


def resources(**overrides) -> dict:
    settings = OutcomesSettings(**overrides)
    s = settings.settings()
    os.environ["OUTCOMES_WAREHOUSE"] = str(s.warehouse.resolve())
    return {
        "outcomes": settings,
        "dbt": OutcomesDbtCliResource(
            project_dir=DBT_PROJECT, profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }
