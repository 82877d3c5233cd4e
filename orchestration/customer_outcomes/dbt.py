"""Run dbt for this project with the same environment the CLI uses."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .changes import begin_build, end_build, plan_changes
from .config import AS_OF_ENV, PROJECT_DIR, Settings
from .spill import out_of_memory_only, plan_build, resource_failure_hint, spill_dir


@contextmanager
def scoped_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in this process's environment for dbt runs started inside (dagster-dbt
    copies the environment when it starts dbt), restoring what was there after."""
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


def as_of_env(as_of: str | None) -> contextlib.AbstractContextManager[None]:
    """Set (or, for None, leave as it is) the as_of date for dbt runs started inside."""
    return scoped_env({AS_OF_ENV: as_of} if as_of else {})


def dbt_executable() -> str:
    """This environment's ``outcomes-dbt`` (dbt's command line without the slow exit:
    dbt_main.py), else its ``dbt``, else the one on PATH."""
    for name in ("outcomes-dbt", "dbt"):
        local = Path(sys.executable).parent / name
        if local.exists():
            return str(local)
    return "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["OUTCOMES_WAREHOUSE"] = str(settings.warehouse.resolve())
    env["OUTCOMES_LANDING"] = str(settings.landing.resolve())
    env["OUTCOMES_SERVE"] = str(settings.serve.resolve())
    env.setdefault("OUTCOMES_TEMP_DIR", str(spill_dir(settings)))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


# The manifest the Dagster definitions read (dagster-dbt's DbtProject keeps the project's
# default target path, so its partial parse is copied from the same folder).
DEFINITIONS_MANIFEST = PROJECT_DIR / "target" / "manifest.json"

PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")

# Parses started by start_manifest_parse and not yet waited for, by manifest path.
_PARSES: dict[Path, subprocess.Popen] = {}


def _newest_source() -> float:
    newest = 0.0
    for name in PROJECT_SOURCES:
        path = PROJECT_DIR / name
        paths = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(p.stat().st_mtime for p in paths if p.is_file())])
    return newest


def start_manifest_parse(manifest: Path, settings: Settings | None = None) -> None:
    """Start `dbt parse` in the background when ``manifest`` is missing or older than the
    project's dbt files; `current_manifest` waits for it. `outcomes run` starts it first
    thing, so the parse (8-9 s on a fresh checkout) runs on the second core while this
    process generates the data and imports Dagster and GX."""
    if manifest in _PARSES or (manifest.exists() and manifest.stat().st_mtime >= _newest_source()):
        return
    # The runs copy this parse's partial_parse.msgpack; dbt reuses it only when the
    # profile renders the same, so parse with the environment the runs have: the warehouse
    # path and the spill directory (without the latter, every `outcomes run` parsed again).
    env = dbt_env(settings or Settings.from_env())
    _PARSES[manifest] = subprocess.Popen(
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
        cwd=PROJECT_DIR,
        env=env,
        stdout=sys.stderr,
    )


def target_manifest() -> Path:
    """The manifest of the target path dbt writes to (DBT_TARGET_PATH, else target/)."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target") / "manifest.json"


def current_manifest(manifest: Path, settings: Settings | None = None) -> Path:
    """``manifest``, parsed first if it is missing or stale (or once a parse started by
    `start_manifest_parse` has finished)."""
    start_manifest_parse(manifest, settings)
    proc = _PARSES.pop(manifest, None)
    if proc is not None and proc.wait() != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)
    return manifest


PROJECT_ARGS = ("--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR))


def _stream(cmd: list[str], env: dict[str, str], echo: bool) -> tuple[int, deque[str]]:
    """Run a dbt command, echoing its output; its exit code and last 200 lines."""
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    tail: deque[str] = deque(maxlen=200)
    for line in proc.stdout:
        if echo:
            sys.stdout.write(line)
            sys.stdout.flush()
        tail.append(line)
    return proc.wait(), tail


def run_dbt(
    settings: Settings,
    args: Sequence[str],
    as_of: str | None = None,
    echo: bool = True,
    everything: bool = False,
) -> int:
    """Run ``dbt <args>`` in the project, streaming its log; returns the exit code. A plain
    daily build builds only what changed since the last one (changes.plan_changes; all of it
    with ``everything``). A build that reads the whole event history runs as spill.plan_build
    says (one node at a time when it does not fit in memory; a warning when its spill may not
    fit on disk); an incremental one with DuckDB's threads divided among dbt's. A build that
    ran out of memory (not of spill disk) runs its failed and skipped nodes once more (``dbt
    retry``); a failure for want of memory or spill disk that remains is followed by what to
    do about it."""
    changes = plan_changes(
        settings.warehouse,
        args,
        as_of,
        lambda: current_manifest(target_manifest(), settings),
        everything,
    )
    if changes.state is not None:
        print(f"dbt build: {changes.reason}", file=sys.stderr, flush=True)
    if changes.select == []:
        return 0
    plan = plan_build(settings, args)
    for note in plan.notes:
        print(note, file=sys.stderr, flush=True)
    colors = [] if sys.stdout.isatty() else ["--no-use-colors"]
    cmd = [
        dbt_executable(),
        *colors,
        *args,
        *changes.dbt_args(),
        *plan.extra_args,
        *PROJECT_ARGS,
    ]
    env = dbt_env(settings) | plan.env
    build_id = begin_build(settings.warehouse, changes)
    if as_of:
        env[AS_OF_ENV] = as_of
    rc, tail = _stream(cmd, env, echo)
    if rc and args[:1] in (["build"], ["run"], ["test"]) and out_of_memory_only(tail):
        # Once: the nodes that failed and those skipped after them, with the same arguments
        # (dbt retry reads them from run_results.json); what passed is not built again.
        print(
            f"dbt {args[0]}: DuckDB ran out of memory in a query that spills; such failures "
            "have passed when run again, so the failed and skipped nodes run once more (dbt "
            "retry)",
            file=sys.stderr,
            flush=True,
        )
        retry = [dbt_executable(), *colors, "retry", *PROJECT_ARGS]
        rc, tail = _stream(retry, env, echo)
    end_build(settings.warehouse, changes, build_id, succeeded=rc == 0)
    hint = resource_failure_hint(tail, settings) if rc else None
    if hint:
        print(hint, file=sys.stderr, flush=True)
    return rc
