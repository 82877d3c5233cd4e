"""Resources and the dbt project, located by the same environment variables as the CLI."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject

from ..config import PROJECT_DIR, Settings
from ..dbt import DEFINITIONS_MANIFEST, current_manifest, dbt_executable

DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
assert DBT_PROJECT.manifest_path == DEFINITIONS_MANIFEST


def manifest_path() -> Path:
    """The dbt manifest the definitions read, parsed first when missing or older than the
    project's dbt files (DbtProject.prepare_if_dev acts only under `dagster dev`; a stale
    manifest would name models that no longer exist, or miss new ones)."""
    return current_manifest()


class OutcomesSettings(ConfigurableResource):
    """Where the landing files, the build database and the serve database are, and the date
    the marts are computed as of (empty: the environment's OUTCOMES_* variables, then the
    defaults under data/, and today)."""

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
    return {
        "outcomes": OutcomesSettings(**overrides),
        "dbt": DbtCliResource(
            project_dir=DBT_PROJECT, profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }
