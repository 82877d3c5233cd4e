"""Daily builds that rebuild only what their inputs changed (state-aware builds).

A dbt node's result depends on its code, the variables it reads, the raw tables upstream of it
and, for the models that call ``as_of_date()``, the date. When none of these changed since the
last complete build, building the node again gives the same rows, so a plain daily build
(`outcomes build`, `outcomes run`, the Dagster `refresh` job, the bench's daily build) selects:

* ``source:<system>.<table>+`` for every raw table the loader wrote since the last build
  (``raw._load_log``; the row count is compared too, for a write that bypassed the loader);
* ``<model>+`` for every node that calls ``as_of_date()`` (directly or through a macro) when
  the date moved;

and nothing when neither changed. Everything is built when there is no record of a complete
build to compare with, when the project changed since (the dbt files, this package's Python
that the Python models import, the variables that reach the SQL, the installed dbt and DuckDB),
when the last recorded build failed or was partial, and always on ``--full-refresh`` or
``--all``. A build with ``--vars``, ``--target`` or ``--defer`` runs as asked and is recorded
as partial, so the next plain build builds everything; one with its own selection
(``--select``, ``--exclude``, ``--selector``) runs as asked and the next plain build looks past
it: it rebuilt some nodes from the same inputs a plain build reads. A build that never
finished (killed) leaves its record "running", and the next plain build builds everything.

The record is ``raw._build_log`` in the warehouse, next to the load log it is compared with:
one row per build through these commands, written when it starts and updated when it ends.
DuckDB warehouses only (the loader's log lives there).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path

import duckdb

from .config import AS_OF_ENV, PROJECT_DIR

BUILD_LOG = "raw._build_log"
AS_OF_MACRO = "macro.customer_outcomes.as_of_date"
# The files whose content decides what the models compute.
FINGERPRINT_PATHS = (
    "models",
    "macros",
    "seeds",
    "tests",
    "snapshots",
    "dbt_project.yml",
    "profiles.yml",
)
FINGERPRINT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".py", ".md"}
# The environment variables that reach the SQL (dbt_project.yml, macros, profiles.yml's target).
# The others the project reads only place files or size resources (OUTCOMES_WAREHOUSE,
# _THREADS, _MEMORY_LIMIT, _TEMP_DIR), or are the date, compared on its own (OUTCOMES_AS_OF_DATE).
FINGERPRINT_ENV = ("OUTCOMES_TARGET", "OUTCOMES_PII_SALT", "OUTCOMES_BI_ROLE", "OUTCOMES_SPARK_RAW")
# dbt options after which the build is not "the whole project as configured".
OWN_SELECTION = ("--select", "-s", "--models", "-m", "--exclude", "--selector", "--state")
OTHER_RESULTS = ("--vars", "--target", "-t", "--defer")


@dataclass(frozen=True)
class BuildState:
    """What a build's results depend on, taken just before it starts."""

    fingerprint: str
    as_of: str
    tables: dict[str, list]  # raw table -> [loads in raw._load_log, last load time, rows]

    def changed_tables(self, before: BuildState) -> list[str]:
        return sorted(t for t, now in self.tables.items() if before.tables.get(t) != now)


@dataclass(frozen=True)
class ChangePlan:
    """How a build runs: ``select`` None builds everything, [] nothing, else those selectors."""

    state: BuildState | None  # None: not recorded (another engine, or no warehouse yet)
    select: list[str] | None
    reason: str
    record: str | None = "success"  # recorded at its end: success | partial | None (selection)
    skipped: list[str] = field(default_factory=list)  # the nodes left out, parents first

    def dbt_args(self) -> list[str]:
        return ["--select", *self.select] if self.select else []


def _flag(args: Sequence[str], names: Iterable[str]) -> bool:
    return any(a == n or a.startswith(n + "=") for a in args for n in names)


def project_fingerprint() -> str:
    """A hash of everything besides the data and the date that the build's results depend on."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in FINGERPRINT_PATHS:
        path = PROJECT_DIR / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [
                p for p in path.rglob("*") if p.is_file() and p.suffix in FINGERPRINT_SUFFIXES
            ]
    # The Python models import the renewal training from this package.
    files += Path(__file__).parent.glob("*.py")
    for path in sorted(files):
        if PROJECT_DIR / "tests" / "python" in path.parents:
            continue  # pytest's files, not dbt's
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name in FINGERPRINT_ENV:
        digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    for package in ("dbt-core", "dbt-duckdb", "duckdb"):
        digest.update(f"{package}={version(package)}\0".encode())
    return digest.hexdigest()


def ensure_build_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        f"""create table if not exists {BUILD_LOG} (
            build_id integer, started_at timestamp, finished_at timestamp, status varchar,
            as_of_date date, fingerprint varchar, raw_tables json, selection varchar)"""
    )


def _has_raw_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    sql = "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = ?"
    return con.execute(sql, [name]).fetchone()[0] > 0


def current_state(con: duckdb.DuckDBPyConnection, as_of: str | None) -> BuildState:
    """The raw tables' loads and row counts, the project's fingerprint and the date."""
    tables: dict[str, list] = {}
    raw = con.execute(
        """select table_name from duckdb_tables()
        where schema_name = 'raw' and not starts_with(table_name, '_')"""
    ).fetchall()
    loads = {}
    if _has_raw_table(con, "_load_log"):
        loads = {
            t: [n, str(last)]
            for t, n, last in con.execute(
                "select table_name, count(*), max(loaded_at) from raw._load_log group by 1"
            ).fetchall()
        }
    for (name,) in raw:
        rows = con.execute(f'select count(*) from raw."{name}"').fetchone()[0]
        tables[name] = [*loads.get(name, [0, None]), rows]
    # The date dbt will use (macros/as_of_date.sql): given, else by environment, else today.
    as_of = as_of or os.environ.get(AS_OF_ENV) or date.today().isoformat()
    return BuildState(project_fingerprint(), as_of, tables)


def last_build(con: duckdb.DuckDBPyConnection) -> tuple[str, str, BuildState] | None:
    """(status, started_at, state) of the latest recorded build, None when there is none.
    Builds with their own selection do not count, unless they never finished."""
    row = con.execute(
        f"""select status, started_at, fingerprint, as_of_date, raw_tables from {BUILD_LOG}
        where status <> 'selection' order by build_id desc limit 1"""
    ).fetchone()
    if row is None:
        return None
    status, started, fingerprint, as_of, tables = row
    return status, str(started)[:19], BuildState(fingerprint, str(as_of), json.loads(tables))


def as_of_nodes(manifest: Mapping) -> list[str]:
    """The nodes that call as_of_date(), directly or through other macros."""
    macros = manifest["macros"]
    reaches: dict[str, bool] = {}

    def calls_as_of(macro: str, seen: frozenset = frozenset()) -> bool:
        if macro == AS_OF_MACRO:
            return True
        if macro not in reaches:
            deps = macros.get(macro, {}).get("depends_on", {}).get("macros", [])
            reaches[macro] = any(calls_as_of(m, seen | {macro}) for m in deps if m not in seen)
        return reaches[macro]

    return sorted(
        uid
        for uid, node in manifest["nodes"].items()
        if any(calls_as_of(m) for m in node.get("depends_on", {}).get("macros", []))
    )


def _descendants(manifest: Mapping, starts: Iterable[str]) -> set[str]:
    children = manifest["child_map"]
    found, todo = set(starts), list(starts)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _in_build_order(manifest: Mapping, uids: Iterable[str]) -> list[str]:
    """``uids`` parents first (by the longest chain of parents above each)."""
    parents = manifest["parent_map"]
    depth: dict[str, int] = {}

    def level(uid: str) -> int:
        if uid not in depth:
            depth[uid] = 0  # a cycle cannot occur in a dbt DAG; this ends any recursion
            depth[uid] = 1 + max((level(p) for p in parents.get(uid, [])), default=-1)
        return depth[uid]

    return sorted(uids, key=lambda uid: (level(uid), uid))


def plan_changes(
    warehouse: Path,
    args: Sequence[str],
    as_of: str | None,
    manifest: Callable[[], Mapping | Path],
    everything: bool = False,
) -> ChangePlan:
    """What a `dbt build` with ``args`` needs to build, given the last recorded build.
    ``manifest`` gives the current project's dbt manifest, asked for only by a selective build;
    ``everything`` (`outcomes build --all`) builds every node, as ``--full-refresh`` does."""
    target = os.environ.get("OUTCOMES_TARGET", "duckdb")
    if not args or args[0] != "build" or target != "duckdb" or not warehouse.exists():
        return ChangePlan(None, None, "everything (not a build of the DuckDB warehouse)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = current_state(con, as_of)
        last = last_build(con) if _has_raw_table(con, "_build_log") else None
    if _flag(args, OTHER_RESULTS):
        # Its results may differ from the plain build's: the next plain build redoes all.
        return ChangePlan(state, None, "as asked (other vars or target)", "partial")
    if _flag(args, OWN_SELECTION):
        # It builds some nodes from the same inputs as a plain build would: nothing to record
        # (the next plain build compares with the last plain one, so misses nothing).
        return ChangePlan(state, None, "as asked (its own selection)", None)
    if "--full-refresh" in args or everything:
        return ChangePlan(state, None, "everything (asked for)")
    if last is None:
        return ChangePlan(state, None, "everything (no record of an earlier build)")
    status, started, before = last
    if status != "success":
        return ChangePlan(state, None, f"everything (the last build, {started}, was {status})")
    if before.fingerprint != state.fingerprint:
        return ChangePlan(state, None, f"everything (the project changed since {started})")
    changed = state.changed_tables(before)
    date_moved = before.as_of != state.as_of
    manifest = manifest()
    if isinstance(manifest, Path):
        manifest = json.loads(manifest.read_text())
    buildable = {
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "seed", "snapshot", "test")
    }
    if not changed and not date_moved:
        return ChangePlan(
            state,
            [],
            f"nothing: no load and the same date as the build of {started}",
            skipped=_in_build_order(manifest, buildable),
        )
    sources = {
        s["identifier"]: uid for uid, s in manifest["sources"].items() if s["schema"] == "raw"
    }
    if any(t not in sources for t in changed):
        unknown = [t for t in changed if t not in sources]
        return ChangePlan(state, None, f"everything (raw tables without a dbt source: {unknown})")
    starts = [sources[t] for t in changed] + (as_of_nodes(manifest) if date_moved else [])
    selected = _descendants(manifest, starts)
    select = [f"source:{manifest['sources'][sources[t]]['source_name']}.{t}+" for t in changed]
    if date_moved:
        select += [f"{manifest['nodes'][uid]['name']}+" for uid in as_of_nodes(manifest)]
    skipped = _in_build_order(manifest, buildable - selected)
    why = [f"loads into {', '.join(changed)}"] if changed else []
    why += [f"the date moved from {before.as_of} to {state.as_of}"] if date_moved else []
    reason = (
        f"{len(buildable & selected)} of {len(buildable)} models, seeds and tests: "
        f"{' and '.join(why)} since the build of {started}; the rest is unchanged"
    )
    return ChangePlan(state, select, reason, skipped=skipped)


def begin_build(warehouse: Path, plan: ChangePlan) -> int | None:
    """Record the build as running (so a build killed half-way makes the next one build
    everything); its id for end_build, None for a build not planned here."""
    if plan.state is None:
        return None
    selection = "everything" if plan.select is None else " ".join(plan.select)
    with duckdb.connect(str(warehouse)) as con:
        ensure_build_log(con)
        next_id = f"select coalesce(max(build_id), 0) + 1 from {BUILD_LOG}"
        build_id = con.execute(next_id).fetchone()[0]
        con.execute(
            f"""insert into {BUILD_LOG}
            values (?, current_timestamp::timestamp, null, 'running', ?, ?, ?, ?)""",
            [
                build_id,
                plan.state.as_of,
                plan.state.fingerprint,
                json.dumps(plan.state.tables),
                selection,
            ],
        )
    return build_id


def end_build(warehouse: Path, plan: ChangePlan, build_id: int | None, succeeded: bool) -> None:
    """Record how the build ended: success, failed, partial (other vars or target; any end), or
    selection (its own selection, finished: the next plain build looks past it)."""
    if build_id is None:
        return
    status = plan.record or "selection"
    if status == "success" and not succeeded:
        status = "failed"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            f"""update {BUILD_LOG} set status = ?, finished_at = current_timestamp::timestamp
            where build_id = ?""",
            [status, build_id],
        )
