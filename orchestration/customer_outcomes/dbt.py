"""dbt for this project: the environment its commands run in, the manifest the Dagster
definitions read, `dbt ls` for the daily refresh's plan, and `outcomes build`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .config import AS_OF_ENV, PROJECT_DIR, Settings

PROJECT_ARGS = ("--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR))

# The manifest the Dagster definitions read (dagster-dbt's DbtProject uses the project's
# default target path, and copies its partial parse into each run's own target folder).
DEFINITIONS_MANIFEST = PROJECT_DIR / "target" / "manifest.json"

# The files a parse reads: a manifest older than one of them is parsed again.
PROJECT_SOURCES = (
    "models",
    "macros",
    "seeds",
    "tests",
    "dbt_project.yml",
    "profiles.yml",
    "selectors.yml",
)


def dbt_executable() -> str:
    """This environment's ``dbt``, else the one on PATH."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else "dbt"


def dbt_env(settings: Settings, as_of: str | None = None) -> dict[str, str]:
    """The environment of a dbt command for ``settings``: the profile reads the warehouse and
    spill locations from it, macros/as_of_date.sql the date."""
    env = {
        "OUTCOMES_WAREHOUSE": str(settings.warehouse.resolve()),
        "OUTCOMES_LANDING": str(settings.landing.resolve()),
        "OUTCOMES_SERVE": str(settings.serve.resolve()),
        "OUTCOMES_TEMP_DIR": os.environ.get("OUTCOMES_TEMP_DIR")
        or str(settings.warehouse.resolve().parent / "duckdb_tmp"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if as_of:
        env[AS_OF_ENV] = as_of
    return env


@contextmanager
def scoped_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in this process's environment while inside (dagster-dbt starts dbt with a
    copy of it), restoring what was there after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Of the files in those folders, a parse reads SQL, YAML, seeds, docs blocks and Python models
# (the Python of tests/python is pytest's, and its __pycache__ changes on every test run).
PARSED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def parsed_files() -> Iterator[Path]:
    for name in PROJECT_SOURCES:
        path = PROJECT_DIR / name
        for file in path.rglob("*") if path.is_dir() else [path]:
            python_model = file.suffix == ".py" and name == "models"
            if (file.suffix in PARSED_SUFFIXES or python_model) and file.is_file():
                yield file


def _newest_source() -> float:
    return max((file.stat().st_mtime for file in parsed_files()), default=0.0)


def current_manifest(settings: Settings | None = None) -> Path:
    """The manifest the Dagster definitions read, parsed first (`dbt parse`) when it is missing
    or older than the project's dbt files; beside it the semantic manifest `mf` reads. The
    parse writes to a folder of its own and its files are then moved into place, so a process
    reading the manifest while another parses never sees half a file."""
    manifest = DEFINITIONS_MANIFEST
    semantic = manifest.with_name("semantic_manifest.json")  # what `mf` reads
    if semantic.exists() and manifest.exists() and manifest.stat().st_mtime >= _newest_source():
        return manifest
    env = os.environ | dbt_env(settings or Settings.from_env())
    # DBT_TARGET_PATH may point elsewhere (a test's or a user's build): the definitions read
    # this manifest, so it is written exactly here.
    env.pop("DBT_TARGET_PATH", None)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=manifest.parent, prefix=".parse-") as scratch:
        cmd = [dbt_executable(), "parse", *PROJECT_ARGS, "--target-path", scratch, "--quiet"]
        done = subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
        for name in ("partial_parse.msgpack", semantic.name, "manifest.json"):  # manifest last
            os.replace(Path(scratch) / name, manifest.parent / name)
    return manifest


def dbt_ls(settings: Settings, select: str, state: Path | None = None) -> list[str]:
    """The unique ids of the models, seeds and snapshots that dbt's ``select`` names (with
    ``state`` for the state: methods). Its artifacts go to the warehouse's target folder
    (``plan/``): dbt writes manifest.json in place, and the definitions' copy in target/ may
    be read meanwhile; there the partial parse also stays that of this warehouse's profile.
    The first time, the definitions' partial parse is copied there, as dagster-dbt does for
    its dbt steps (a full parse costs about 4 s more)."""
    target = settings.dbt_target / "plan"
    seed = DEFINITIONS_MANIFEST.parent / "partial_parse.msgpack"
    if seed.exists() and not (target / seed.name).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed, target / seed.name)
    cmd = [dbt_executable(), "ls", *PROJECT_ARGS, "--select", select, "--quiet"]
    cmd += ["--target-path", str(target)]
    cmd += ["--resource-type", "model", "seed", "snapshot"]
    cmd += ["--output", "json", "--output-keys", "unique_id"]
    if state is not None:
        cmd += ["--state", str(state)]
    env = os.environ | dbt_env(settings)
    done = subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt ls failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    return [json.loads(line)["unique_id"] for line in done.stdout.splitlines() if line.strip()]


def run_dbt(
    settings: Settings, args: Sequence[str], as_of: str | None = None, echo: bool = True
) -> int:
    """Run ``dbt <args>`` in the project for ``settings`` (`outcomes build`); its exit code."""
    colors = [] if sys.stdout.isatty() else ["--no-use-colors"]
    cmd = [dbt_executable(), *colors, *args, *PROJECT_ARGS]
    env = os.environ | dbt_env(settings, as_of)
    output = None if echo else subprocess.DEVNULL
    return subprocess.run(cmd, cwd=PROJECT_DIR, env=env, stdout=output, stderr=output).returncode


# dbt's selectors (selectors.yml) on either side of the renewal model.
BEFORE_RENEWAL_MODEL, RENEWAL_MARTS = "before_renewal_model", "renewal_marts"
SELECTION_FLAGS = {"-s", "--select", "-m", "--models", "--selector", "--exclude"}


def build_project(
    settings: Settings, extra: Sequence[str] = (), as_of: str | None = None, echo: bool = True
) -> int:
    """`dbt build` of the whole project (on the OUTCOMES_TARGET engine) with the renewal model
    between its two halves, as the Dagster job runs it: ``--selector before_renewal_model``,
    the model (renewal_step), ``--selector renewal_marts``. ``extra`` goes to both dbt
    commands; with a selection of its own it is one plain `dbt build`. Returns the exit code."""
    if SELECTION_FLAGS & set(extra):
        return run_dbt(settings, ["build", *extra], as_of=as_of, echo=echo)
    code = run_dbt(settings, ["build", "--selector", BEFORE_RENEWAL_MODEL, *extra], as_of, echo)
    if code:
        return code
    from .renewal_step import engine_for, score

    target = os.environ.get("OUTCOMES_TARGET", "duckdb")
    with scoped_env(dbt_env(settings, as_of)), engine_for(target, settings.warehouse) as engine:
        scored = score(engine)
    if echo:
        print(f"renewal model: {scored.model_status} ({scored.model_version}), {scored.rows}")
    return run_dbt(settings, ["build", "--selector", RENEWAL_MARTS, *extra], as_of, echo)
