"""Resources and the dbt project, located by the same environment variables as the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject

from ..config import PROJECT_DIR, Settings
from ..dbt import dbt_executable

DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)


PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source() -> float:
    newest = 0.0
    for name in PROJECT_SOURCES:
        path = PROJECT_DIR / name
        paths = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(p.stat().st_mtime for p in paths if p.is_file())])
    return newest


def manifest_path() -> Path:
    """The dbt manifest, parsed when missing or older than the project's dbt files
    (prepare_if_dev only acts under `dagster dev`; a stale manifest would name models that
    no longer exist, or miss new ones)."""
    manifest = DBT_PROJECT.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source():
        env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        # The runs copy this parse's partial_parse.msgpack; dbt reuses it only when the
        # profile renders the same, so parse with the warehouse path the runs will use.
        env["OUTCOMES_WAREHOUSE"] = str(Settings.from_env().warehouse.resolve())
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                # DBT_TARGET_PATH may point elsewhere (a test's or a user's build); the
                # definitions read this manifest, so write it exactly here.
                "--target-path",
                str(manifest.parent),
                "--quiet",
            ],
            check=True,
            cwd=PROJECT_DIR,
            env=env,
            stdout=sys.stderr,
        )
    return manifest


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
        "dbt": DbtCliResource(
            project_dir=DBT_PROJECT, profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }
