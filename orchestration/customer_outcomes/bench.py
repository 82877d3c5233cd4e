"""The scale benchmark (`outcomes bench`, `make bench`): the scheduled job's builds at a scale,
and the event path against DuckDB's floor.

For one scale it generates demo data and loads it, then times, each in its own process (so its
peak memory, the max resident set size from ``wait4``, is its own):

* the full build: the Dagster `full_refresh` job (`outcomes run --full-refresh`), everything;
* the event path alone (``dbt run --full-refresh`` of the two event models) and the floor, one
  hand-written DuckDB query that reads the raw events once, de-duplicates by ``event_id`` and
  aggregates to account-day, which is what ``fct_account_usage_daily`` computes;
* the usage models from daily counts: the loaded events, de-duplicated and counted per
  account, day, user, event and feature into ``raw.usage_daily`` of a copy of the warehouse
  (its events removed), and the same models (``dbt run --full-refresh``) built from those;
* the daily build: one new day of events (with late ones for the two days before) dropped into
  a landing folder and the Dagster `refresh` job (`outcomes run`) as the nightly schedule runs
  it, with its steps' times from the Dagster instance.

It prints a table and the ratios, and writes the same figures as JSON under
``benchmarks/results/`` (ignored by git). Targets are reported, never asserted.
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
)
from .dbt import PROJECT_ARGS, dbt_env, dbt_executable

# The demo generator writes about 1,900 events per account over 730 days.
EVENTS_PER_ACCOUNT = 1_900
DAYS = 730
END = date(2026, 6, 30)
RESULTS = PROJECT_DIR / "benchmarks" / "results"
EVENT_PATH = ("stg_product__usage_event_deliveries", "fct_account_usage_daily")
# The models that read raw usage (events or daily counts), timed from daily counts.
USAGE_MODELS = (
    "fct_account_usage_daily",
    "int_usage_events_aggregated_to_account_weeks",
    "int_feature_adoption_weekly",
)
# A copy of the warehouse whose usage is daily counts: the events, de-duplicated and counted.
DAILY_COUNTS_SQL = """
insert into raw.usage_daily
select account_id, cast(occurred_at as date), user_id, event_name, feature_key,
    count(distinct event_id), 'bench: from raw.usage_events', max(_loaded_at), 'bench'
from raw.usage_events
group by account_id, cast(occurred_at as date), user_id, event_name, feature_key;
delete from raw.usage_events;
"""

# The floor de-duplicates as the fastest hand-written query found: grouping the deliveries by
# event_id and their content (every delivery of an event has the same content but received_at
# and its load; the loader quarantines any other), and groups the event type as two booleans
# counted with `case`, as the model does.
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


@dataclass
class Stage:
    name: str
    seconds: float
    peak_mb: float
    rows: int | None = None
    note: str = ""
    # Why the stage's process failed (its last error line), empty when it succeeded.
    error: str = ""


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
    ratios: dict = field(default_factory=dict)
    # Seconds of the Dagster runs (full, daily), whole and by step, and of the command's rest.
    steps: dict = field(default_factory=dict)
    engines: dict = field(default_factory=dict)
    # The longest-running nodes of the full and the daily build: [(node, seconds)].
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
    failed process gives a Stage whose `error` is its last error line."""
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


def _run_results(target: Path) -> list[dict]:
    """The node results of the last dbt command in ``target``, or of the last one in each of
    its sub-folders (the Dagster job's two dbt steps each write their own)."""
    files = [target / "run_results.json", *sorted(target.glob("*/run_results.json"))]
    return [r for f in files if f.exists() for r in json.loads(f.read_text())["results"]]


def _model_times(target: Path, kind: str = "model") -> dict[str, float]:
    """Execution seconds per node of the last dbt command: models and seeds, or tests."""
    prefixes = ("model.", "seed.") if kind == "model" else ("test.", "unit_test.")
    times = {}
    for r in _run_results(target):
        uid = r["unique_id"]
        if uid.startswith(prefixes):
            times[uid.split(".")[-1]] = round(r["execution_time"], 3)
    return times


def slowest_nodes(target: Path, n: int = 8) -> list[tuple[str, float]]:
    """The n nodes (models, seeds, tests) of the last dbt command that ran longest, with their
    seconds: where a build's time goes."""
    ranked = sorted(_run_results(target), key=lambda r: -r["execution_time"])[:n]
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


def run_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds of the newest run in the Dagster instance at ``dagster_home``, whole ("run", as
    the Dagster UI shows it) and by step."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_stats(run.run_id)
        seconds = {
            s.step_key: round(s.end_time - s.start_time, 2)
            for s in instance.get_run_step_stats(run.run_id)
            if s.start_time and s.end_time
        }
        return {"run": round(stats.end_time - stats.start_time, 2), **seconds}


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
    reuse = keep and (workdir / "warehouse.duckdb").exists()
    if workdir.exists() and not reuse:
        shutil.rmtree(workdir)
    for stale in ("day", "empty", "usage_events_bulk"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings(workdir / "landing", workdir / "warehouse.duckdb", workdir / "serve.duckdb")
    dagster_home = workdir / "dagster"
    env = dict(os.environ) | dbt_env(settings)
    env |= {
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "OUTCOMES_TEMP_DIR": str(workdir / "duckdb_tmp"),
        "DAGSTER_HOME": str(dagster_home),
    }
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
    raw_events = "select count(*) from raw.usage_events"
    daily = "select count(*) from marts.fct_account_usage_daily"

    def stage(name, cmd, rows_sql=None, note="", required=True):
        """Run and record one stage. A stage the later ones need stops the benchmark when it
        fails; a measurement nothing else reads is recorded as failed and the benchmark goes
        on, and the run still ends in an error (cli: exit 1)."""
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

    if reuse:
        progress(f"bench {scale}: reusing the generated and loaded data in {workdir}")
    else:
        demo = ["--accounts", str(accounts), "--days", str(DAYS), "--seed", "42"]
        demo += ["--end-date", str(END), "--out", str(settings.landing)]
        stage("generate", [*py, "generate", *demo])
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
    # The data's last day (a reused warehouse holds the days earlier runs appended): the full
    # build runs as of it and the daily build as of the day after, as a nightly run does.
    from .demo.days import last_event_day, write_events

    as_of = last_event_day(settings.warehouse) or END
    empty = workdir / "empty"
    empty.mkdir()
    full = stage(
        "full build: Dagster full_refresh job",
        [*py, "run", "--full-refresh", "--as-of", str(as_of), "--landing", str(empty)],
        daily,
        note="outcomes run --full-refresh: every asset, dbt --full-refresh",
    )
    report.steps["full"] = run_seconds(dagster_home)
    full_models = _model_times(settings.dbt_target)
    report.slowest["full"] = slowest_nodes(settings.dbt_target)
    dbt = [dbt_executable(), "--no-use-colors"]
    alone_env = dict(env, OUTCOMES_AS_OF_DATE=str(as_of))
    alone = run_stage(
        "event path alone (dbt run)",
        [*dbt, "run", "--full-refresh", "--select", *EVENT_PATH, *PROJECT_ARGS],
        alone_env,
        log,
    )
    alone.note = " + ".join(EVENT_PATH) + ", --full-refresh"
    report.stages.append(alone)
    progress(f"bench {scale}: event path alone: {alone.seconds:.1f} s {alone.error}")
    event_alone = None
    if not alone.error:
        event_alone = sum(_model_times(workdir / "target").get(m, 0) for m in EVENT_PATH)
    floor_script = (
        "import duckdb, sys, time\n"
        "from pathlib import Path\n"
        "from customer_outcomes.config import apply_duckdb_limits\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "apply_duckdb_limits(con, Path(sys.argv[1]))\n"
        # Row order is of no use here; DuckDB's advice against running out of memory.
        "con.execute('set preserve_insertion_order = false')\n"
        "con.execute('create schema if not exists bench')\n"
        "t = time.perf_counter()\n"
        "con.execute(sys.argv[2])\n"
        "open(sys.argv[3], 'w').write(str(time.perf_counter() - t))\n"
    )
    floor_file = workdir / "floor_seconds.txt"
    floor_cmd = [sys.executable, "-c", floor_script, str(settings.warehouse), FLOOR_SQL]
    floor = stage(
        "floor: one DuckDB query",
        [*floor_cmd, str(floor_file)],
        "select count(*) from bench.floor_account_usage_daily",
        required=False,
    )
    floor_query = None
    if not floor.error:
        floor_query = float(floor_file.read_text())
        floor.note = f"query {floor_query:.2f} s"
        _check_floor_matches(settings.warehouse)
    daily_counts, from_counts = _daily_counts_path(
        workdir, settings, env, str(as_of), log, progress
    )
    report.stages += daily_counts
    for engine in engines:  # the same data as DuckDB's full build, before the new day
        report.engines[engine] = engine_build(engine, workdir, settings, env, str(as_of), progress)

    day = as_of + timedelta(days=1)
    rows = write_events(settings.warehouse, workdir / "day", day)
    incr = stage(
        "daily build: Dagster refresh job",
        [*py, "run", "--as-of", str(day), "--landing", str(workdir / "day")],
        daily,
        note=f"outcomes run: {rows:,} events of {day} and the 2 days before",
    )
    report.steps["daily"] = run_seconds(dagster_home)
    incr_models = _model_times(settings.dbt_target)
    report.slowest["daily"] = slowest_nodes(settings.dbt_target)
    for name, s in (("full", full), ("daily", incr)):
        # The command's time outside the Dagster run: start-up, the plan, the summary.
        report.steps[name]["outcomes run, outside the run"] = round(
            s.seconds - report.steps[name]["run"], 2
        )
    event_full = sum(full_models.get(m, 0) for m in EVENT_PATH)
    report.ratios = {
        "daily_run_over_full_run": round(
            report.steps["daily"]["run"] / report.steps["full"]["run"], 3
        ),
        "daily_command_over_full_command": round(incr.seconds / full.seconds, 3),
        "daily_dbt_step_over_full_dbt_step": round(
            report.steps["daily"].get("dbt_models", 0)
            / max(report.steps["full"].get("dbt_models", 0), 1e-9),
            3,
        ),
        "event_path_seconds": round(event_alone, 2) if event_alone is not None else None,
        "event_path_in_build_seconds": round(event_full, 2),
        "event_path_daily_seconds": round(sum(incr_models.get(m, 0) for m in EVENT_PATH), 2),
        "floor_seconds": round(floor_query, 2) if floor_query is not None else None,
        "event_path_over_floor": (
            round(event_alone / floor_query, 2) if event_alone and floor_query else None
        ),
        "usage_models_from_events_seconds": round(
            sum(full_models.get(m, 0) for m in USAGE_MODELS), 2
        ),
        "usage_models_from_daily_counts_seconds": from_counts,
        # The builds' peak (the demo generator, the bench's own loading and the daily counts'
        # set-up are not builds).
        "peak_mb": max(
            s.peak_mb
            for s in report.stages
            if not s.name.startswith(("generate", "load", "daily counts:"))
        ),
    }
    return report


ENGINES = ("duckdb", "postgres", "spark")
# Excluded on every engine in the side-by-side figures: the marts over the renewal model's
# tables, which the model (a Python step, not dbt) writes between dbt's two halves.
ENGINE_EXCLUDE = ["--exclude", "source:renewal_model+"]


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


def _daily_counts_path(
    workdir: Path, settings: Settings, env: dict, as_of: str, log: Path, progress
) -> tuple[list[Stage], float | None]:
    """The usage models built from daily counts instead of events (DAILY_COUNTS_SQL on a copy
    of the warehouse): the set-up and the build, each a stage. The build's figure is the sum
    of the models' own times (dbt's run_results), as for the event path: also returned."""
    copy = workdir / "daily_counts.duckdb"
    shutil.copy(settings.warehouse, copy)
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute(sys.argv[2])\n"
        "con.close()\n"
    )
    prepare = run_stage(
        "daily counts: events counted by day",
        [sys.executable, "-c", script, str(copy), DAILY_COUNTS_SQL],
        env,
        log,
    )
    prepare.note = "set-up: raw.usage_daily of a copy, its events removed"
    stages = [prepare]
    if prepare.error:
        return stages, None
    prepare.rows = _count(copy, "select count(*) from raw.usage_daily")
    copy_settings = Settings(settings.landing, copy, workdir / "daily_counts_serve.duckdb")
    copy_env = env | dbt_env(copy_settings, as_of)
    # One thread, as the full build runs them (FULL_REFRESH_CONFIG), so the figures compare.
    cmd = [dbt_executable(), "--no-use-colors", "run", "--full-refresh", "--threads", "1"]
    cmd.append("--select")
    built = run_stage(
        "usage models from daily counts",
        [*cmd, "stg_product__usage_daily", *USAGE_MODELS, *PROJECT_ARGS],
        copy_env,
        log,
    )
    stages.append(built)
    seconds = None
    if not built.error:
        times = _model_times(Path(copy_env["DBT_TARGET_PATH"]))
        seconds = round(sum(times.get(m, 0) for m in USAGE_MODELS), 2)
        built.note = f"dbt run --full-refresh --threads 1; the models {seconds:.1f} s"
        built.rows = _count(copy, "select count(*) from marts.fct_account_usage_daily")
    progress(f"bench: usage models from {prepare.rows or 0:,} daily counts: {built.seconds:.1f} s")
    copy.unlink(missing_ok=True)
    return stages, seconds


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
        f"{report.memory_limit}, threads {report.threads}, {report.machine.get('cpus')} CPUs / "
        f"{report.machine.get('memory_gb')} GB",
        "",
        f"{'stage':<36} {'wall s':>9} {'peak MB':>9} {'rows':>13}  note",
    ]
    for s in report.stages:
        rows = f"{s.rows:,}" if s.rows is not None else "-"
        note = f"FAILED ({s.error})" if s.error else s.note
        lines.append(f"{s.name:<36} {s.seconds:>9.1f} {s.peak_mb:>9,.0f} {rows:>13}  {note}")
    r = report.ratios

    def shown(key, fmt):  # a figure whose stage failed is not there
        return "n/a" if r.get(key) is None else format(r[key], fmt)

    lines += [
        "",
        "daily run / full run (Dagster runs): "
        f"{shown('daily_run_over_full_run', '.1%')} (target <= 5% at 100M); dbt step alone "
        f"{shown('daily_dbt_step_over_full_dbt_step', '.1%')}; whole `outcomes run` commands "
        f"{shown('daily_command_over_full_command', '.1%')}",
        f"event path ({' + '.join(EVENT_PATH)}, full, alone): "
        f"{shown('event_path_seconds', '.1f')} s; floor {shown('floor_seconds', '.1f')} s; "
        f"event path / floor = {shown('event_path_over_floor', '.2f')} (target <= 1.5)",
        f"usage models ({', '.join(USAGE_MODELS)}), full: from events "
        f"{shown('usage_models_from_events_seconds', '.1f')} s (in the full build); from daily "
        f"counts {shown('usage_models_from_daily_counts_seconds', '.1f')} s (dbt run, 1 thread)",
        f"peak memory of the builds: {shown('peak_mb', ',.0f')} MB (target <= 4 GB)",
    ]
    for build, steps in report.steps.items():
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
        lines.append(f"{build}: {parts}")
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
