"""Memory and disk for builds that read the whole event history: one node at a time when the
history does not fit in memory, a warning when the spill may not fit on disk, and a plain
explanation when a build fails for want of memory or spill disk.

DuckDB keeps its memory under ``memory_limit`` by spilling to the temp directory, which it caps
by default at 90 % of that disk's free space. A build that fills it fails with DuckDB's "Out of
Memory Error" (or the system's "No space left on device"), which reads like a memory problem
when the cure is disk. At 100 M events a full build spilled up to 34.9 GB under a 1.5GB limit
and 36.8 GB under 3GB (README, "Disk for spilling"): about 0.35 GB per million events, the
estimate used here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .config import QUERY_THREADS_ENV, Settings, duckdb_limits, threads

SPILL_GB_PER_MILLION_EVENTS = 0.35
# A raw event row takes about 250 bytes in DuckDB's memory, uncompressed (measured on the demo
# data: 16-byte string headers plus the longer strings, 8-byte timestamps); the columns the
# models read, about 150 of them.
BYTES_PER_EVENT = 150
OUT_OF_MEMORY = "Out of Memory Error"  # DuckDB's, for memory and for a full spill disk alike
RESOURCE_ERRORS = (OUT_OF_MEMORY, "No space left on device")
DISK_FULL = ("failed to offload", "max_temp_directory_size", "No space left on device")


def spill_dir(settings: Settings) -> Path:
    """The temp directory the build spills to (OUTCOMES_TEMP_DIR, else next to the warehouse)."""
    return Path(duckdb_limits(settings.warehouse)["temp_directory"])


def free_gb(path: Path) -> float:
    """Free space of the disk that holds ``path`` (or would: the nearest existing parent)."""
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free / 1e9


def events_to_build(warehouse: Path, full_refresh: bool) -> tuple[bool, int | None]:
    """(built, events): whether the event models were built before, and the raw events a build
    reads whole: all of raw.usage_events on a full refresh or when the event models were never
    built; None for an incremental build, or when the warehouse cannot be read now (then
    also not built)."""
    if not warehouse.exists():
        return False, None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            built_sql = "select count(*) > 0 from duckdb_tables() where table_name = ?"
            built = con.execute(built_sql, ["fct_account_usage_daily"]).fetchone()[0]
            if built and not full_refresh:
                return True, None
            return built, con.execute("select count(*) from raw.usage_events").fetchone()[0]
    except duckdb.Error:
        return False, None


def full_build_space_warning(settings: Settings, events: int | None) -> str | None:
    """A warning when a build that reads ``events`` raw events whole may spill more than the
    spill directory's disk has free; None when it fits or nothing is read whole."""
    if not events:
        return None
    need = events / 1e6 * SPILL_GB_PER_MILLION_EVENTS
    temp = spill_dir(settings)
    free = free_gb(temp)
    if free >= need:
        return None
    return (
        f"warning: a full build of {events:,} events may spill up to about {need:.1f} GB to "
        f"{temp} (OUTCOMES_TEMP_DIR), whose disk has {free:.1f} GB free. If it fills up the "
        "build fails with DuckDB's 'Out of Memory Error'. Free disk, point OUTCOMES_TEMP_DIR "
        "at a larger disk, or raise OUTCOMES_MEMORY_LIMIT."
    )


def size_bytes(size: str) -> int:
    """A DuckDB size setting ('3GB', '1.5GB', '1500MB', '2GiB') in bytes."""
    text = size.strip().upper().replace(" ", "")
    units = {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "KB": 10**3, "MB": 10**6}
    units |= {"GB": 10**9, "TB": 10**12, "B": 1}
    for unit, factor in units.items():
        if text.endswith(unit) and text[: -len(unit)]:
            return int(float(text[: -len(unit)]) * factor)
    raise ValueError(f"not a DuckDB size: {size!r} (e.g. 3GB, 1500MB)")


@dataclass(frozen=True)
class BuildPlan:
    """What a dbt command adds for a build that reads the whole event history."""

    events: int | None  # raw events read whole; None for an incremental build
    extra_args: list[str]  # ['--threads', '1'] when that history does not fit in memory
    notes: list[str]  # what to tell the user before the build
    # For dbt's environment: DuckDB's threads per query in an incremental build.
    env: dict[str, str] = field(default_factory=dict)


def _dbt_threads(args: Sequence[str]) -> int:
    """The dbt threads a command runs with: its --threads, else the profile's (OUTCOMES_THREADS)."""
    for i, arg in enumerate(args):
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
        if arg == "--threads" and i + 1 < len(args):
            return int(args[i + 1])
    return threads()


def query_threads_env(args: Sequence[str]) -> dict[str, str]:
    """An incremental build's queries read a day's data, and dbt runs its threads side by side:
    each query gets the cores divided among them (OUTCOMES_THREADS // dbt threads, at least 1)
    rather than all of them, which its small work spends partly on coordination (at 100 M
    events on 2 cores, a daily build took 0.9 s less with one DuckDB thread per query;
    DECISIONS.md). A value already in the environment is the user's and stands."""
    if os.environ.get(QUERY_THREADS_ENV):
        return {}
    return {QUERY_THREADS_ENV: str(max(1, threads() // max(1, _dbt_threads(args))))}


def plan_build(
    settings: Settings, args: Sequence[str], memory_limit: str | None = None
) -> BuildPlan:
    """A `dbt build`/`dbt run` that reads the whole event history (a full refresh, or the
    first build) runs one node at a time when that history is larger than DuckDB's memory
    limit: memory_limit is shared by the queries running at once, and two whole-history
    queries side by side could each leave the other too little of what they cannot spill (at
    100 M events under 3GB the goal snapshots and the weekly adoption then failed, where each
    alone passes). Alone, each query has all of DuckDB's threads, so the build is not slower.
    An explicit --threads is kept. Also warns when the spill may not fit on disk. An
    incremental build instead divides DuckDB's threads among dbt's (query_threads_env). DuckDB
    targets only (Postgres and Spark manage their own memory)."""
    target = os.environ.get("OUTCOMES_TARGET", "duckdb")
    if not args or args[0] not in ("build", "run") or target != "duckdb":
        return BuildPlan(None, [], [])
    built, events = events_to_build(settings.warehouse, "--full-refresh" in args)
    if built and events is None:
        return BuildPlan(None, [], [], query_threads_env(args))
    notes = [w for w in [full_build_space_warning(settings, events)] if w]
    limit = memory_limit or duckdb_limits(settings.warehouse)["memory_limit"]
    explicit = any(a == "--threads" or a.startswith("--threads=") for a in args)
    if not events or explicit or events * BYTES_PER_EVENT <= size_bytes(limit):
        return BuildPlan(events, [], notes)
    notes.append(
        f"a full build of {events:,} events, more than fit in memory_limit {limit}: dbt runs "
        "one node at a time, each query with all of DuckDB's memory and threads "
        "(pass --threads to choose)"
    )
    return BuildPlan(events, ["--threads", "1"], notes)


def out_of_memory_only(lines: Iterable[str]) -> bool:
    """True when a failed dbt command's output shows DuckDB running out of memory, and not of
    spill disk: the failure given one more try (``dbt retry``). Such failures ("failed to pin
    block", 256 KiB with the pool full) have come and gone between runs of the same data at
    100 M events under 3GB (the whole-history tests, the benchmark's floor query), but not
    always: the weekly adoption's full refresh failed in its retry too, and was fixed at its
    cause (macros/clustered_by.sql; DECISIONS.md, "Memory"). A full spill disk fails again,
    so it is not retried."""
    lines = list(lines)
    memory = any(OUT_OF_MEMORY in line for line in lines)
    return memory and not any(m in line for line in lines for m in DISK_FULL)


def resource_failure_hint(lines: Iterable[str], settings: Settings) -> str | None:
    """What to do about a build that failed for want of memory or of spill disk, from its
    output lines; None when no line shows such a failure. DuckDB says "failed to offload" (and
    names max_temp_directory_size) when the spill directory is full, and "could not allocate"
    or "failed to pin" when a part of a query that cannot spill does not fit in memory."""
    lines = list(lines)
    found = next((line.strip() for line in lines if any(e in line for e in RESOURCE_ERRORS)), None)
    if found is None:
        return None
    temp = spill_dir(settings)
    limit = duckdb_limits(settings.warehouse)["memory_limit"]
    setting = f"memory_limit {limit} (OUTCOMES_MEMORY_LIMIT)"
    where = f"{temp} (OUTCOMES_TEMP_DIR), whose disk has {free_gb(temp):.1f} GB free now"
    if any(m in line for line in lines for m in DISK_FULL):
        return (
            f"DuckDB ran out of spill disk ({found[:200]}). It keeps its memory under "
            f"{setting} by spilling to {where}; it stops when that disk is full (by default at "
            "90 % of its free space). Free disk (a full build spills about "
            f"{SPILL_GB_PER_MILLION_EVENTS} GB per million events), point OUTCOMES_TEMP_DIR at "
            "a larger disk, or raise OUTCOMES_MEMORY_LIMIT; then run the build again."
        )
    return (
        f"DuckDB ran out of memory ({found[:200]}): a part of a query that cannot spill did not "
        f"fit in {setting}; it spills the rest to {where}. Raise OUTCOMES_MEMORY_LIMIT, or "
        "lower OUTCOMES_THREADS (each thread holds buffers of its own); then run the build "
        "again."
    )
