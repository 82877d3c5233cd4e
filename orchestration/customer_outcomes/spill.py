"""Disk for DuckDB's spilling: a warning before a full build that may not fit, and a plain
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
from collections.abc import Iterable
from pathlib import Path

import duckdb

from .config import DEFAULT_MEMORY_LIMIT, Settings, duckdb_limits

SPILL_GB_PER_MILLION_EVENTS = 0.35
RESOURCE_ERRORS = ("Out of Memory Error", "No space left on device")
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


def events_to_build(warehouse: Path, full_refresh: bool) -> int | None:
    """The raw events a build reads whole: all of raw.usage_events on a full refresh or when
    the event models were never built; None for an incremental build, or when the warehouse
    cannot be read now."""
    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            built = con.execute(
                "select count(*) from duckdb_tables() where table_name = 'fct_account_usage_daily'"
            ).fetchone()[0]
            if built and not full_refresh:
                return None
            return con.execute("select count(*) from raw.usage_events").fetchone()[0]
    except duckdb.Error:
        return None


def full_build_space_warning(settings: Settings, full_refresh: bool) -> str | None:
    """A warning when a build that reads every event (a full refresh, or the first build) may
    spill more than the spill directory's disk has free; None when it fits, when the build is
    incremental, or when it cannot be estimated."""
    events = events_to_build(settings.warehouse, full_refresh)
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
    limit = os.environ.get("OUTCOMES_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
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
