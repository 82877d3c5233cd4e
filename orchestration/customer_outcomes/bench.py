"""The scale benchmark (`outcomes bench`, `make bench`): the event path against DuckDB's floor.

For one scale it generates demo data, loads it through the contract checks, runs the full
``dbt build``, times the floor (one hand-written query that reads the raw events once,
de-duplicates by ``event_id`` and aggregates to account-day, which is what
``fct_account_usage_daily`` computes), appends one new day with late events for earlier days,
loads it and runs the daily ``dbt build`` (incremental, and only what the day changed:
changes.py), then does the same for the day after with every node built (``--all``). Every
stage runs in its own process, so its peak memory (max resident set size, from ``wait4``) is
its own.

It prints a table (stage, wall seconds, peak memory, rows) and the ratios, and writes the
same figures as JSON under ``benchmarks/results/`` (ignored by git) so runs can be compared.
Targets are reported, never asserted: a benchmark is not a test.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from .config import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_THREADS,
    PROJECT_DIR,
    Settings,
    apply_duckdb_limits,
    model_cache_dir,
)
from .dbt import AS_OF_ENV, dbt_env, dbt_executable
from .spill import OUT_OF_MEMORY, plan_build

# The demo generator writes about 1,900 events per account over 730 days.
EVENTS_PER_ACCOUNT = 1_900
DAYS = 730
RESULTS = PROJECT_DIR / "benchmarks" / "results"
EVENT_PATH = ("stg_product__usage_event_deliveries", "fct_account_usage_daily")
# As the scheduled job builds: the unit tests' inputs are fixed, so they run in CI.
NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
INCREMENTAL_MODELS = (
    "fct_account_usage_daily",
    "int_usage_events_aggregated_to_account_weeks",
    "fct_feature_adoption_weekly",
)

# The floor de-duplicates as the fastest hand-written query found: grouping the deliveries by
# event_id and their content (every delivery of an event has the same content but received_at
# and its load; the loader quarantines any other). At 10 M events 7.5 s, against 9.3 s for one
# arg_min per column grouped by event_id alone (the floor until the models grouped this way),
# with the same rows. It groups the event type as two booleans and counts with `case`, as the
# model does: at 105 M events under 3GB the same query with the event name as a string and
# `count(distinct ...) filter (where ...)` ran out of memory every time in the sixteenth
# session (85-89 s in, also with preserve_insertion_order off), and this one passed (161.1 s,
# the model's 10,596,652 rows exactly).
FLOOR_SQL = """
create or replace table bench.floor_account_usage_daily as
with deduplicated as (
    select
        event_id,
        account_id,
        user_id,
        event_name = 'session_start' as is_session_start,
        event_name = 'feature_used' as is_feature_use,
        feature_key,
        cast(occurred_at as date) as usage_date,
        max(_loaded_at) as loaded_at
    from raw.usage_events
    where event_name in ('session_start', 'feature_used')
    group by all
)
select
    e.account_id,
    e.usage_date,
    count(distinct e.user_id) as active_users,
    sum(case when e.is_session_start then 1 else 0 end) as sessions,
    sum(case when e.is_feature_use then 1 else 0 end) as feature_events,
    count(distinct case when e.is_feature_use then e.feature_key end) as distinct_features,
    count(distinct case when e.is_feature_use and f.is_core then e.feature_key end)
        as distinct_core_features,
    max(e.loaded_at) as last_loaded_at
from deduplicated as e
left join (select distinct feature_key, is_core from raw.features) as f
    on e.feature_key = f.feature_key
group by e.account_id, e.usage_date
"""


FLOOR_RETRY_PAUSE = 30  # seconds


@dataclass
class Stage:
    name: str
    seconds: float
    peak_mb: float
    rows: int | None = None
    note: str = ""
    # Why the stage's process failed (its last error line), empty when it succeeded.
    error: str = ""
    # A failed stage run again (the floor after running out of memory): the stage after it
    # holds the outcome, and the failure alone does not fail the benchmark.
    retried: bool = False


@dataclass
class Report:
    scale: str
    events_target: int
    accounts: int
    engine: str = "duckdb"
    load: str = "validated"
    memory_limit: str = ""
    threads: int = 0
    machine: dict = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    models: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)
    engines: dict = field(default_factory=dict)
    # The longest-running nodes of the full and the incremental build: [(node, seconds)].
    slowest: dict = field(default_factory=dict)
    started_at: str = ""


def parse_scale(text: str) -> int:
    text = text.strip().upper().replace("_", "")
    factor = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    try:
        return int(float(text.rstrip("KM")) * factor)
    except ValueError:
        raise ValueError(
            f"--scale {text!r}: a number of events such as 250K, 10M or 100M"
        ) from None


def _machine() -> dict:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = fh.readline().split()[1]
        mem_gb = round(int(mem) / 1024 / 1024, 1)
    except (OSError, IndexError, ValueError):
        mem_gb = None
    return {
        "cpus": os.cpu_count(),
        "memory_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def run_stage(name: str, cmd: list[str], env: dict[str, str], log: Path) -> Stage:
    """Run one stage in its own process; wall time and that process tree's peak RSS. A
    failed process gives a Stage whose `error` is its last error line, for the caller to
    decide whether the rest of the benchmark can go on."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n=== {name}: {' '.join(cmd)}\n")
        out.flush()
        offset = out.tell()
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stage = Stage(name, round(seconds, 2), round(usage.ru_maxrss / 1024, 1))
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with log.open(errors="replace") as fh:
            fh.seek(offset)
            stage.error = f"exit {code}: {_last_error(fh.read())}"
    return stage


def floor_with_retry(run, pause: float = FLOOR_RETRY_PAUSE, sleep=time.sleep) -> Stage:
    """The floor query's stage, ``run(name)``, and once more after a pause when it ran out of
    memory. At 100 M under 3GB it has done so right after the event path's rebuild in every
    fresh benchmark, and passed each time it ran again (DECISIONS.md, "Memory"). The failed
    attempt stays in the report, marked retried; any other failure is not retried."""
    first = run("floor: one DuckDB query")
    if OUT_OF_MEMORY not in first.error:
        return first
    first.retried = True
    sleep(pause)
    return run("floor: again, same query")


def _last_error(output: str) -> str:
    """The line of a failed stage's output that says why: the last one naming an error (a
    Python exception, DuckDB's "Out of Memory Error: ...", dbt's "Runtime Error"), else the
    last line. Progress bars rewrite their line with carriage returns: each piece counts."""
    lines = [x.strip() for x in output.replace("\r", "\n").splitlines() if x.strip()]
    errors = [x for x in lines if "Error" in x or "Exception" in x]
    return ((errors or lines or ["no output"])[-1])[:300]


def _count(warehouse: Path, sql: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def _model_times(target: Path, kind: str = "model") -> dict[str, float]:
    """Execution seconds per node of the last dbt command: models and seeds, or tests."""
    prefixes = ("model.", "seed.") if kind == "model" else ("test.", "unit_test.")
    results = json.loads((target / "run_results.json").read_text())
    times = {}
    for r in results["results"]:
        uid = r["unique_id"]
        if uid.startswith(prefixes):
            times[uid.split(".")[-1]] = round(r["execution_time"], 3)
    return times


def slowest_nodes(target: Path, n: int = 8) -> list[tuple[str, float]]:
    """The n nodes (models, seeds, tests) of the last dbt command that ran longest, with their
    seconds: where a build's time goes."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda r: -r["execution_time"])[:n]
    # unique_id: <type>.<project>.<name>[.<hash>]; a test's name is its third part too.
    return [(r["unique_id"].split(".")[2][:60], round(r["execution_time"], 1)) for r in ranked]


def bulk_load_events(warehouse: Path, landing: Path) -> int:
    """Bench only (--load bulk): insert the usage_events files straight into raw, typed as the
    contract says, without the contract checks, to reach 100 M events in minutes. Every other
    table goes through the real loader; the new day's events later do too."""
    from .contract import TABLES
    from .load import _parsed, _q, ensure_raw_schema

    table = TABLES["usage_events"]
    con = duckdb.connect(str(warehouse))
    try:
        # The same bounds as the dbt stages (a first 100 M run without them peaked at 7 GB).
        apply_duckdb_limits(con, warehouse)
        ensure_raw_schema(con)
        files = f"{landing / 'usage_events'}/*.csv"
        values = ", ".join(_parsed(c, f"src.{_q(c.name)}") for c in table.columns)
        names = ", ".join(_q(c.name) for c in table.columns)
        con.execute(
            f"""insert into raw.usage_events ({names}, _source_file, _loaded_at, _batch_id)
            select {values}, src.filename, current_timestamp::timestamp, 'bench-bulk'
            from read_csv('{files}', header = true, all_varchar = true, filename = true) as src"""
        )
        return con.execute("select count(*) from raw.usage_events").fetchone()[0]
    finally:
        con.close()


def last_event_day(warehouse: Path) -> date | None:
    """The day of the newest event loaded (None without events)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sql = "select max(cast(occurred_at as date)) from raw.usage_events"
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def append_day(warehouse: Path, out_dir: Path, late_share: float = 0.01) -> tuple[date, int]:
    """Write a landing file with one new day of events (the last day's pattern, new ids)
    plus late events for the 7 days before it (received on the new day). Returns its day
    and row count."""
    last = last_event_day(warehouse)
    new_day = last + timedelta(days=1)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"usage_events_{new_day:%Y_%m_%d}.csv"
        con.execute(
            f"""copy (
                select
                    'bench-' || event_id as event_id, account_id, user_id, event_name,
                    feature_key, occurred_at + interval 1 day as occurred_at,
                    received_at + interval 1 day as received_at
                from raw.usage_events
                where cast(occurred_at as date) = date '{last}'
                union all
                select
                    'late-' || event_id, account_id, user_id, event_name, feature_key,
                    occurred_at, timestamp '{new_day} 23:00:00'
                from raw.usage_events
                where cast(occurred_at as date) between date '{last}' - 6 and date '{last}'
                    and hash(event_id) % 10000 < {int(late_share * 10000)}
            ) to '{path}' (header, delimiter ',')"""
        )
        rows = con.execute(f"select count(*) from read_csv('{path}')").fetchone()[0]
        return new_day, int(rows)
    finally:
        con.close()


def bench(
    scale: str,
    workdir: Path,
    memory_limit: str | None = None,
    keep: bool = False,
    progress=print,
    engines: tuple[str, ...] = (),
    load: str = "validated",
) -> Report:
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:  # before the hours of work that come first, not after
        raise ValueError(f"unknown engine(s) {', '.join(unknown)}: one of {', '.join(ENGINES)}")
    events = parse_scale(scale)
    accounts = max(50, round(events / EVENTS_PER_ACCOUNT))
    end = date(2026, 6, 30)
    if workdir.exists() and not keep:
        shutil.rmtree(workdir)
    for stale in ("delta", "delta2", "target", "usage_events_bulk"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(workdir / "landing", workdir / "warehouse.duckdb", workdir / "serve.duckdb")
    env = dbt_env(settings)
    env["DBT_TARGET_PATH"] = str(workdir / "target")
    env["DBT_LOG_PATH"] = str(workdir / "logs")
    env["OUTCOMES_TEMP_DIR"] = str(workdir / "duckdb_tmp")
    if memory_limit:
        env["OUTCOMES_MEMORY_LIMIT"] = memory_limit
    report = Report(
        load=load,
        scale=scale,
        events_target=events,
        accounts=accounts,
        memory_limit=env.get("OUTCOMES_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
        threads=int(env.get("OUTCOMES_THREADS", DEFAULT_THREADS)),
        machine=_machine(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    log = workdir / "bench.log"
    py = [sys.executable, "-m", "customer_outcomes.cli"]
    dbt = [dbt_executable(), "--no-use-colors"]
    dbt_tail = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    # As the scheduled job runs it: the date by environment (a --vars change would make dbt
    # parse the whole project again) and no unit tests (they run in CI).
    env[AS_OF_ENV] = str(end)
    raw_events = "select count(*) from raw.usage_events"
    daily = "select count(*) from marts.fct_account_usage_daily"

    def stage(name, cmd, rows_sql=None, note="", required=True):
        """Run and record one stage. A stage the later ones need (data, full build, new day)
        stops the benchmark when it fails; a measurement nothing else reads (the event path
        alone, the floor) is recorded as failed and the benchmark goes on, so an hour of
        work is not lost to it, and the run still ends in an error (cli: exit 1)."""
        progress(f"bench {scale}: {name} ...")
        s = run_stage(name, cmd, env, log)
        s.note = note
        report.stages.append(s)
        if s.error:
            progress(f"  FAILED after {s.seconds:,.1f} s (peak {s.peak_mb:,.0f} MB): {s.error}")
            if required:
                raise RuntimeError(f"bench stage {name!r} failed: {s.error}; see {log}")
            return s
        if rows_sql:
            s.rows = _count(settings.warehouse, rows_sql)
        progress(f"  {s.seconds:,.1f} s, peak {s.peak_mb:,.0f} MB, rows {s.rows or '-'}")
        return s

    as_of = end
    if keep and settings.warehouse.exists():
        progress(f"bench {scale}: reusing the generated and loaded data in {workdir}")
        # The reused data holds the days that earlier runs appended: the full build runs as of
        # the last of them, as a fresh run's does as of the generated data's last day, so that
        # the daily build after it moves the date by one day, as a scheduled daily run does
        # (as of `end`, it had recomputed a week of dates as well as the new day's).
        as_of = last_event_day(settings.warehouse) or end
    else:
        stage(
            "generate",
            [
                *py,
                "generate",
                "--accounts",
                str(accounts),
                "--days",
                str(DAYS),
                "--seed",
                "42",
                "--end-date",
                str(end),
                "--out",
                str(settings.landing),
            ],
        )
        if load == "bulk":
            events_dir = settings.landing / "usage_events"
            held = workdir / "usage_events_bulk"
            events_dir.rename(held)
            stage(
                "load other tables (validated)", [*py, "load"], "select count(*) from raw.accounts"
            )
            held.rename(events_dir)
            script = (
                "import sys; from pathlib import Path; "
                "from customer_outcomes.bench import bulk_load_events; "
                "bulk_load_events(Path(sys.argv[1]), Path(sys.argv[2]))"
            )
            stage(
                "load events (bulk, unvalidated)",
                [sys.executable, "-c", script, str(settings.warehouse), str(settings.landing)],
                raw_events,
                note="bench --load bulk: events skip the contract checks",
            )
        else:
            stage("load (validate + insert)", [*py, "load"], raw_events)
    env[AS_OF_ENV] = str(as_of)
    # The builds run through `outcomes build`, as the CLI and the scheduled job run them: the
    # full build one node at a time when the event history does not fit in memory_limit
    # (spill.plan_build), the daily build only what changed since (changes.plan_changes).
    full_build = ["build", "--full-refresh", *NO_UNIT_TESTS]
    plan = plan_build(settings, full_build, env.get("OUTCOMES_MEMORY_LIMIT"))
    full = stage(
        "dbt build --full-refresh",
        [*py, *full_build],
        daily,
        note=" ".join(plan.extra_args),
    )
    full_models = _model_times(workdir / "target")
    report.slowest["full"] = slowest_nodes(workdir / "target")
    # In the build the event models run side by side (two threads, three models reading the
    # events), while the floor has the machine to itself: the event path is also timed alone,
    # the same two models rebuilt from scratch with nothing else running, as the floor is.
    alone = stage(
        "event path alone (dbt run)",
        [*dbt, "run", "--full-refresh", "--select", *EVENT_PATH, *dbt_tail],
        daily,
        note=" + ".join(EVENT_PATH) + ", --full-refresh",
        required=False,
    )
    event_alone = None
    if not alone.error:
        alone_models = _model_times(workdir / "target")
        event_alone = sum(alone_models.get(m, 0) for m in EVENT_PATH)
    floor_script = (
        "import duckdb, sys, time\n"
        "from pathlib import Path\n"
        "from customer_outcomes.config import apply_duckdb_limits\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "apply_duckdb_limits(con, Path(sys.argv[1]))\n"
        "con.execute('create schema if not exists bench')\n"
        "t = time.perf_counter()\n"
        "con.execute(sys.argv[2])\n"
        "open(sys.argv[3], 'w').write(str(time.perf_counter() - t))\n"
    )
    floor_seconds_file = workdir / "floor_seconds.txt"
    floor_cmd = [
        sys.executable,
        "-c",
        floor_script,
        str(settings.warehouse),
        FLOOR_SQL,
        str(floor_seconds_file),
    ]
    floor_rows = "select count(*) from bench.floor_account_usage_daily"
    floor = floor_with_retry(lambda name: stage(name, floor_cmd, floor_rows, required=False))
    floor_query = None
    if not floor.error:
        floor_query = float(floor_seconds_file.read_text())
        floor.note = f"query {floor_query:.2f} s"
        _check_floor_matches(settings.warehouse)
    for engine in engines:  # the same data as DuckDB's full build, before the new day
        report.engines[engine] = engine_build(engine, workdir, settings, env, str(as_of), progress)

    def load_day(name: str, folder: str) -> None:
        """Append a day of events (and late ones for the 7 days before), load it, and move
        the date the builds after it use to that day."""
        day, rows = append_day(settings.warehouse, workdir / folder / "usage_events")
        note = f"{rows:,} rows for {day} and the 7 days before"
        stage(name, [*py, "load", "--landing", str(workdir / folder)], raw_events, note=note)
        env[AS_OF_ENV] = str(day)

    load_day("load new day (+ late events)", "delta")
    trainings = _renewal_trainings(env)
    incr = stage(
        "dbt build (incremental)",
        [*py, "build", *NO_UNIT_TESTS],
        daily,
        note="what the new day changed",
    )
    if not incr.error:
        incr.note += _training_note(trainings, _renewal_trainings(env))
    incr_models = _model_times(workdir / "target")
    report.slowest["incremental"] = slowest_nodes(workdir / "target")
    # What the day after costs when every node is built (`--all`), as when every raw table has
    # a load: another new day of events, the same size, so the two builds do the same
    # incremental work and differ only by the nodes the first one left out.
    load_day("load the day after", "delta2")
    trainings = _renewal_trainings(env)
    every = stage(
        "dbt build (every node)",
        [*py, "build", "--all", *NO_UNIT_TESTS],
        daily,
        note="the day after, every node built (as when every raw table had a load)",
        required=False,
    )
    if not every.error:
        every.note += _training_note(trainings, _renewal_trainings(env))
    event_full = sum(full_models.get(m, 0) for m in EVENT_PATH)
    event_incr = sum(incr_models.get(m, 0) for m in EVENT_PATH)
    report.models = {
        "full": {m: full_models.get(m) for m in (*EVENT_PATH, *INCREMENTAL_MODELS[1:])},
        "incremental": {m: incr_models.get(m) for m in (*EVENT_PATH, *INCREMENTAL_MODELS[1:])},
    }
    report.ratios = {
        "event_path_over_floor": (
            round(event_alone / floor_query, 2) if event_alone and floor_query else None
        ),
        "event_path_seconds": round(event_alone, 2) if event_alone is not None else None,
        "event_path_in_build_seconds": round(event_full, 2),
        "floor_seconds": round(floor_query, 2) if floor_query is not None else None,
        "incremental_event_path_over_full": round(event_incr / event_full, 3),
        "incremental_build_over_full_build": round(incr.seconds / full.seconds, 3),
        "every_node_daily_build_over_full_build": (
            None if every.error else round(every.seconds / full.seconds, 3)
        ),
        "incremental_models_over_full": round(
            sum(incr_models.get(m, 0) for m in INCREMENTAL_MODELS)
            / max(sum(full_models.get(m, 0) for m in INCREMENTAL_MODELS), 1e-9),
            3,
        ),
    }
    return report


ENGINES = ("duckdb", "postgres", "spark")
# Excluded on every engine in the side-by-side figures: the renewal Python models exist on
# DuckDB only, so leaving them in would compare different work.
ENGINE_EXCLUDE = ["--exclude", "path:models/marts/renewal"]


def _renewal_trainings(env: dict[str, str]) -> set[str]:
    """The renewal trainings stored for the benchmark's warehouse (its dbt environment)."""
    return {p.name for p in model_cache_dir(env).glob("renewal-*.pkl")}


def _training_note(before: set[str], after: set[str]) -> str:
    """Whether a daily build trained the renewal model (on a Monday, by default, or when the
    renewals decided by the training date changed) or reused the stored training, which
    decides a few seconds of its time."""
    return "; renewal model trained" if after - before else "; the week's renewal training reused"


def _timed_dbt(cmd: list[str], env: dict, cwd: Path, log: Path) -> tuple[float, float]:
    """Run one dbt command; wall seconds and the client's peak memory (MB). Raises on failure."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed; see {log}")
    return seconds, usage.ru_maxrss / 1024


def engine_build(
    engine: str, workdir: Path, settings: Settings, env: dict, as_of: str, progress=print
) -> dict:
    """The same data on one engine: hand the loaded raw tables over, then time the build
    (seeds and models, ``--full-refresh``) and the tests (data and unit tests) separately.

    DuckDB builds a copy of the warehouse, Postgres reads the OUTCOMES_PG_* variables, Spark
    runs from .venv-spark in its own folder. The renewal Python models are left out on every
    engine (they run on DuckDB only), so the three columns are the same work."""
    from .engines import copy_raw_to_postgres, export_raw_parquet

    engine_env = dict(env, OUTCOMES_TARGET=engine)
    engine_env["DBT_TARGET_PATH"] = str(workdir / f"target_{engine}")
    cwd = workdir / f"run_{engine}"
    cwd.mkdir(exist_ok=True)
    dbt = dbt_executable()
    started = time.perf_counter()
    if engine == "duckdb":
        copy = workdir / "engine_duckdb.duckdb"
        shutil.copyfile(settings.warehouse, copy)
        engine_env["OUTCOMES_WAREHOUSE"] = str(copy)
    elif engine == "postgres":
        copy_raw_to_postgres(settings.warehouse)
    elif engine == "spark":
        export_raw_parquet(settings.warehouse, workdir / "raw_parquet")
        engine_env["OUTCOMES_SPARK_RAW"] = str(workdir / "raw_parquet")
        dbt = str(PROJECT_DIR / ".venv-spark" / "bin" / "dbt")
    else:
        raise ValueError(f"unknown engine {engine!r} (one of {', '.join(ENGINES)})")
    handover = time.perf_counter() - started
    progress(f"bench: {engine}: raw handed over in {handover:.1f} s; build, then test ...")
    tail = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    tail += ["--vars", json.dumps({"as_of_date": as_of}), *ENGINE_EXCLUDE]
    log = workdir / "bench.log"
    build_cmd = [dbt, "--no-use-colors", "build", "--full-refresh"]
    build_cmd += ["--exclude-resource-type", "test", "unit_test", *tail]
    build_s, build_mb = _timed_dbt(build_cmd, engine_env, cwd, log)
    models = _model_times(workdir / f"target_{engine}")
    test_s, test_mb = _timed_dbt([dbt, "--no-use-colors", "test", *tail], engine_env, cwd, log)
    figures = {
        "raw_handover_seconds": round(handover, 1),
        "build_seconds": round(build_s, 1),
        "test_seconds": round(test_s, 1),
        "models_built": len(models),
        "tests_run": len(_model_times(workdir / f"target_{engine}", kind="test")),
        "peak_mb_client": round(max(build_mb, test_mb), 1),
        "event_path_seconds": round(sum(models.get(m, 0) for m in EVENT_PATH), 2),
    }
    progress(f"  {engine}: {figures}")
    return figures


def _check_floor_matches(warehouse: Path) -> None:
    """The floor must compute what the model computes, or the ratio means nothing."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cols = (
            "account_id, usage_date, active_users, sessions, feature_events, distinct_features,"
            " distinct_core_features"
        )
        diff = con.execute(
            f"""select count(*) from (
                (select {cols} from bench.floor_account_usage_daily
                 except all select {cols} from marts.fct_account_usage_daily)
                union all
                (select {cols} from marts.fct_account_usage_daily
                 except all select {cols} from bench.floor_account_usage_daily))"""
        ).fetchone()[0]
    finally:
        con.close()
    if diff:
        raise RuntimeError(f"the floor query and fct_account_usage_daily differ in {diff} rows")


def render(report: Report) -> str:
    lines = [
        f"customer_outcomes benchmark: {report.scale} events target, {report.accounts:,} "
        f"accounts, engine {report.engine}, load {report.load}, memory_limit "
        f"{report.memory_limit}, threads "
        f"{report.threads}, {report.machine.get('cpus')} CPUs / "
        f"{report.machine.get('memory_gb')} GB",
        "",
        f"{'stage':<32} {'wall s':>9} {'peak MB':>9} {'rows':>13}  note",
    ]
    for s in report.stages:
        rows = f"{s.rows:,}" if s.rows is not None else "-"
        note = f"FAILED ({s.error})" if s.error else s.note
        if s.retried:
            note += "; run again below"
        lines.append(f"{s.name:<32} {s.seconds:>9.1f} {s.peak_mb:>9,.0f} {rows:>13}  {note}")
    r = report.ratios

    def shown(key, fmt):  # a figure whose stage failed is not there
        return "n/a" if r.get(key) is None else format(r[key], fmt)

    lines += [
        "",
        f"event path ({' + '.join(EVENT_PATH)}, full, alone): "
        f"{shown('event_path_seconds', '.1f')} s; floor {shown('floor_seconds', '.1f')} s; "
        f"event path / floor = {shown('event_path_over_floor', '.2f')} (target <= 1.5 at 10M); "
        f"in the build, beside the other event models: "
        f"{r.get('event_path_in_build_seconds', 0):.1f} s",
        f"incremental / full: whole dbt build {r['incremental_build_over_full_build']:.1%}; "
        f"incremental event models {r['incremental_models_over_full']:.1%}"
        " (target < 5% at 100M); the daily build of every node "
        f"{shown('every_node_daily_build_over_full_build', '.1%')}",
    ]
    for build, nodes in report.slowest.items():
        lines += ["", f"longest nodes of the {build} build (seconds, on one of the threads):"]
        lines += [f"  {seconds:>9.1f}  {node}" for node, seconds in nodes]
    if report.engines:
        lines += [
            "",
            "the same data on each engine (renewal Python models left out everywhere):",
            f"{'engine':<10} {'handover s':>11} {'build s':>9} {'test s':>8} {'models':>7}"
            f" {'tests':>6} {'event path s':>13}",
        ]
        for name, f in report.engines.items():
            lines.append(
                f"{name:<10} {f['raw_handover_seconds']:>11.1f} {f['build_seconds']:>9.1f}"
                f" {f['test_seconds']:>8.1f} {f['models_built']:>7} {f['tests_run']:>6}"
                f" {f['event_path_seconds']:>13.1f}"
            )
    return "\n".join(lines)


def save(report: Report, results_dir: Path = RESULTS) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{stamp}_{report.engine}_{report.scale}.json"
    data = asdict(report)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
