"""``outcomes``: generate demo data, load landing files, build and summarize the warehouse."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

# The demo generator, the loader, GX's suites and Dagster are imported by the commands that
# use them, so `outcomes build` starts dbt sooner.
from .config import DAGSTER_HOME, PROJECT_DIR, Settings, locked_by_another_process
from .contract import TABLES
from .dbt import build_project, scoped_env
from .publish import MartsBreakPromises, audit_and_publish
from .publish import check_marts as marts_keep_promises

if TYPE_CHECKING:
    from .demo import DemoSpec


def _say(msg: str) -> None:
    print(msg, flush=True)


def _settings(args: argparse.Namespace) -> Settings:
    base = Settings.from_env()
    return Settings(
        landing=Path(getattr(args, "landing", None) or base.landing),
        warehouse=Path(getattr(args, "warehouse", None) or base.warehouse),
        serve=Path(getattr(args, "serve", None) or base.serve),
    )


def _demo_spec(args: argparse.Namespace) -> DemoSpec:
    from .demo import DemoSpec

    end = date.fromisoformat(args.end_date) if args.end_date else None
    return DemoSpec(accounts=args.accounts, days=args.days, seed=args.seed, end_date=end)


def cmd_generate(args: argparse.Namespace) -> int:
    from .demo import generate

    out = Path(args.out or _settings(args).landing)
    started = time.perf_counter()
    counts = generate(_demo_spec(args), out, progress=_say)
    _say(f"wrote {sum(counts.values()):,} rows to {out} in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    return cmd_load(args, dry_run=True)


def cmd_load(args: argparse.Namespace, dry_run: bool = False) -> int:
    from .gx_suites import build_docs
    from .load import load_landing

    settings = _settings(args)
    verb = "validate" if dry_run else "load"
    if not settings.landing.is_dir():
        raise ValueError(
            f"landing directory {settings.landing} does not exist: pass --landing or set "
            "OUTCOMES_LANDING"
        )
    if dry_run:
        _say(f"validating {settings.landing} against the contract (nothing is loaded)")
    else:
        _say(f"validating and loading {settings.landing} into {settings.warehouse}")
    results = load_landing(settings.warehouse, settings.landing, progress=_say, dry_run=dry_run)
    if results:
        _say(f"Great Expectations Data Docs: {build_docs()}")
    rejected = [r for r in results if r.status == "rejected"]
    loaded = sum(r.rows_loaded for r in results)
    quarantined = sum(r.rows_quarantined for r in results)
    _say(
        f"{len(results)} file(s): {loaded:,} rows {'would load' if dry_run else 'loaded'}, "
        f"{quarantined:,} {'would be ' if dry_run else ''}quarantined, "
        f"{sum(r.status == 'skipped' for r in results)} already loaded, {len(rejected)} rejected"
    )
    if not results and not rejected:
        _say(f"no landing files found under {settings.landing}")
    if rejected:
        _say(
            f"{verb} FAILED; rejected file(s), nothing of them "
            f"{'would be' if dry_run else 'was'} loaded:"
        )
        for r in rejected:
            _say(f"  {r.message}")
        return 1
    return 0


AS_OF_HELP = "compute 'current' figures as of YYYY-MM-DD (default today)"
ALL_HELP = "build every asset, not only what the new data and the new day change"


def cmd_build(args: argparse.Namespace) -> int:
    return build_project(_settings(args), args.dbt_args, as_of=args.as_of)


def cmd_copy_raw(args: argparse.Namespace) -> int:
    """Copy the validated raw tables to another engine (Postgres, or Parquet for Spark)."""
    from .engines import copy_raw_to_postgres, export_raw_parquet

    settings = _settings(args)
    if args.to == "postgres":
        counts = copy_raw_to_postgres(settings.warehouse)
        print(f"copied {sum(counts.values()):,} rows in {len(counts)} tables to Postgres raw.*")
    else:
        out = Path(args.out or settings.warehouse.parent / "raw_parquet")
        paths = export_raw_parquet(settings.warehouse, out)
        print(f"wrote {len(paths)} raw tables as Parquet under {out}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Generate, load, full build, floor, one new day, incremental build; print and save."""
    from .bench import bench, render, save

    workdir = Path(args.workdir or f"/tmp/outcomes-bench-{args.scale}")
    engines = tuple(e for e in (args.engines or "").split(",") if e)
    try:
        report = bench(
            args.scale,
            workdir,
            memory_limit=args.memory_limit,
            engines=engines,
            load=args.load,
            keep=args.reuse,
        )
    except ValueError as exc:  # a bad --scale or --engines: say so, no traceback
        print(f"outcomes bench: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # a stage the rest needs failed: its error line and log
        print(f"outcomes bench: {exc}", file=sys.stderr)
        return 1
    print()
    print(render(report))
    print(f"\nfigures saved to {save(report)}; bench data in {workdir}")
    failed = [s for s in report.stages if s.error]
    for s in failed:
        print(f"outcomes bench: stage {s.name!r} failed: {s.error}", file=sys.stderr)
    return 1 if failed else 0


LANDING_HINT = (
    "put the contract's tables there (docs/raw-contract.md), or leave out --landing and "
    "OUTCOMES_LANDING to run on the demo data"
)


def cmd_run(args: argparse.Namespace) -> int:
    """The Dagster `refresh` job in-process: load, dbt build, check and publish; a summary."""
    settings = _settings(args)
    started = time.perf_counter()
    from .load import landing_files

    files, _ = landing_files(settings.landing)
    # The demo data goes only into the default landing folder: a folder the user names that
    # is missing or empty is a mistake to report, not a place to fill with synthetic data.
    named = getattr(args, "landing", None) or os.environ.get("OUTCOMES_LANDING")
    if named and not settings.landing.is_dir():
        raise ValueError(f"landing directory {settings.landing} does not exist: {LANDING_HINT}")
    if named and not files and not settings.warehouse.exists():
        raise ValueError(
            f"no landing files in {settings.landing} and no warehouse yet: {LANDING_HINT}"
        )
    _not_in_use(settings.warehouse)
    if files or settings.warehouse.exists():
        _say(f"[1/3] using the landing data in {settings.landing}")
    else:  # a first run with nothing to load: the demo data
        from .demo import generate

        _say(f"[1/3] no landing data in {settings.landing}: generating the demo data set")
        generated: list[str] = []
        step = time.perf_counter()
        generate(
            _demo_spec(args), settings.landing, progress=_say if args.verbose else generated.append
        )
        if not args.verbose:
            _say(f"  generated in {time.perf_counter() - step:.1f} s (-v lists the tables)")
    job = "full_refresh" if args.full_refresh else "refresh"
    _say(f"[2/3] Dagster job `{job}`: validate + load, dbt build, check marts, publish")
    log = None if args.verbose else run_log(settings)
    terminal = sys.stdout
    with contextlib.ExitStack() as quiet:
        if log is not None:  # dbt's and Dagster's logs go to the file, the progress lines here
            out = quiet.enter_context(log.open("w"))
            quiet.enter_context(contextlib.redirect_stdout(out))
            quiet.enter_context(contextlib.redirect_stderr(out))
        ok, lines = run_refresh_job(
            settings,
            args.as_of,
            all_assets=args.all,
            full_refresh=args.full_refresh,
            say=lambda line: print(line, file=terminal, flush=True),
        )
    for line in lines:
        _say(line)
    if log is not None:
        _say(f"  the full log (dbt's and Dagster's): {log} (or run with -v)")
    if not ok:
        _say(f"run FAILED (see above); the serve database {settings.serve} is unchanged")
        return 1
    _say("[3/3] summary")
    summarize(settings)
    _say(f"serve database for BI tools (open it read-only): {settings.serve}")
    home = Path(os.environ.get("DAGSTER_HOME", DAGSTER_HOME))
    dev = "make dev" if home.resolve() == DAGSTER_HOME else f"DAGSTER_HOME={home} make dev"
    _say(f"Dagster UI with this run, schedules and sensor: {dev} (http://127.0.0.1:3000)")
    _say(f"done in {time.perf_counter() - started:.0f}s")
    return 0


def _not_in_use(warehouse: Path) -> None:
    """One line (exit 2) when another process writes the warehouse: DuckDB allows one writer,
    and a run started now would fail at its first write."""
    if not warehouse.exists():
        return
    try:
        duckdb.connect(str(warehouse), read_only=True).close()
    except duckdb.IOException as exc:
        if not locked_by_another_process(exc):
            raise
        pid = re.search(r"\(PID \d+\)", str(exc))
        raise ValueError(
            f"warehouse {warehouse} is in use by another process{' ' + pid[0] if pid else ''}: "
            "wait for it to end (DuckDB allows one writer)"
        ) from None


def run_log(settings: Settings) -> Path:
    """Where a quiet `outcomes run` writes dbt's log: beside the warehouse, one per run."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return settings.warehouse.with_name(settings.warehouse.stem + "_run.log")


def dagster_instance():
    """The project's Dagster instance ($DAGSTER_HOME, by default .dagster/ in the project, which
    `make dev` serves), so the UI shows the CLI's runs."""
    from dagster import DagsterInstance

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DAGSTER_HOME)))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_DIR / "orchestration" / "dagster_home" / "dagster.yaml", home)
    return DagsterInstance.get()


def run_refresh_job(
    settings: Settings,
    as_of: str | None,
    all_assets: bool = False,
    full_refresh: bool = False,
    say=_say,
) -> tuple[bool, list[str]]:
    """Plan the daily refresh (plan.py) and run the `refresh` job with that selection; with
    ``all_assets`` every asset, with ``full_refresh`` the `full_refresh` job (everything, dbt
    --full-refresh). ``say`` tells the plan before the run. Returns whether it succeeded and
    its report: a line per step with its time, dbt's counts, what failed."""
    # The definitions and the plan read the locations from the environment, as the schedule
    # does: set for this run, restored after.
    with scoped_env(
        {
            "OUTCOMES_LANDING": str(settings.landing.resolve()),
            "OUTCOMES_WAREHOUSE": str(settings.warehouse.resolve()),
            "OUTCOMES_SERVE": str(settings.serve.resolve()),
        }
    ):
        return _run_refresh_job(settings, as_of, all_assets, full_refresh, say)


def _run_refresh_job(
    settings: Settings, as_of: str | None, all_assets: bool, full_refresh: bool, say
) -> tuple[bool, list[str]]:
    from .defs import build_definitions
    from .defs.automation import DBT_OPS, FULL_REFRESH_CONFIG, refresh_plan
    from .plan import PID_TAG, PLAN_TAG, close_abandoned_run, run_tags

    instance = dagster_instance()
    defs = build_definitions()
    close_abandoned_run(instance, settings)
    job, selection = "full_refresh" if full_refresh else "refresh", None
    tags = {**run_tags(settings), PID_TAG: str(os.getpid())}
    if full_refresh or all_assets:
        say(f"  plan: every asset ({'--full-refresh' if full_refresh else '--all'})")
    else:
        started = time.perf_counter()
        plan = refresh_plan(settings, instance)
        selection = None if plan.asset_keys is None else sorted(plan.asset_keys)
        tags[PLAN_TAG] = plan.describe()[:1000]
        say(f"  plan ({time.perf_counter() - started:.1f} s): {plan.describe()}")
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        asset_selection=selection,
        raise_on_error=False,
        tags=tags,
        run_config={
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
            "resources": {"outcomes": {"config": {"as_of": as_of or ""}}},
            # A full refresh builds every asset, so both dbt steps take its config.
            "ops": {op: {"config": FULL_REFRESH_CONFIG} for op in DBT_OPS} if full_refresh else {},
        },
    )
    return result.success, run_report(instance, result, settings.dbt_target)


def _first_line(text: str, limit: int = 300) -> str:
    return (text.strip().splitlines() or [""])[0][:limit]


def run_report(instance, result, dbt_target: Path) -> list[str]:
    """What `outcomes run` says of a run: a line per step with its time, what the load did,
    dbt's counts, the steps left out after a failure, the warnings of the steps that ran, and
    each failed step and failed check with its reason."""
    from dagster import AssetCheckSeverity

    from .defs.automation import DBT_OPS

    report, ran = [], set()
    for stats in instance.get_run_step_stats(result.run_id):
        ran.add(stats.step_key)
        seconds = (stats.end_time or stats.start_time or 0) - (stats.start_time or 0)
        status = stats.status.value.lower() if stats.status else "not run"
        report.append(f"  {stats.step_key}: {status} in {seconds:.1f} s")
        if stats.step_key in DBT_OPS:
            report.append(f"    dbt: {dbt_counts(dbt_target / stats.step_key)}")
        if stats.step_key == "landing_tables" and (counts := load_counts(result)):
            report.append(f"    load: {counts}")
    logs = instance.all_logs(result.run_id)
    # A step whose upstream step failed logs why and never starts.
    left_out = list(dict.fromkeys(e.step_key for e in logs if e.step_key and e.step_key not in ran))
    if left_out:
        report.append(f"  not run, after the failed step: {', '.join(left_out)}")
    # The warnings of the steps that ran, but dbt's steps': their line above counts what dbt
    # warned of, and dagster-dbt's own warnings are for whoever maintains the definitions.
    report += [
        f"  {_first_line(e.user_message, 1000)}"
        for e in logs
        if e.dagster_event is None
        and e.level >= logging.WARNING
        and e.step_key not in (*left_out, *DBT_OPS)
    ]
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            reason = error.cause or error if error else None
            why = _first_line(reason.message) if reason else event.message
            if reason and reason.cls_name == "DagsterDbtCliRuntimeError":
                why = "dbt failed (its line above names what)"
            report.append(f"step failed: {event.step_key}: {why}")
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            check = event.event_specific_data
            if not check.passed and check.severity == AssetCheckSeverity.ERROR:
                rejected = check.metadata.get("rejected_files")
                report.append(
                    f"check failed: {check.asset_key.to_user_string()} {check.check_name}: "
                    f"{rejected.value if rejected else ''}"
                )
    return report


def load_counts(result) -> str | None:
    """What the run's load did, from the last materialization of each landing table (a retry
    materializes again); None when it recorded none (the step failed)."""
    last = {m.asset_key: m for m in result.asset_materializations_for_node("landing_tables")}
    if not last:
        return None
    names = ("files_loaded", "rows_loaded", "rows_quarantined", "files_rejected")
    files, rows, quarantined, rejected = (
        sum(m.metadata[name].value for m in last.values()) for name in names
    )
    text = f"{files} file(s), {rows:,} rows loaded, {quarantined:,} quarantined"
    if quarantined:
        text += " (outcomes quarantine lists them)"
    return text + f", {rejected} file(s) rejected"


def dbt_counts(target: Path) -> str:
    """dbt's summary of the build whose artifacts are in ``target`` (run_results.json): the
    count of each status, and the first nodes that failed, with dbt's message."""
    import json
    from collections import Counter

    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return "no run results"
    # Project hooks and exposures are not built: counted only when one fails.
    results = [
        r
        for r in results
        if not r["unique_id"].startswith(("operation.", "exposure."))
        or r["status"] in ("error", "fail")
    ]
    counts = Counter(r["status"] for r in results)
    built = {"success": "built"} if "success" in counts else {}
    named = {**built, "pass": "passed", "warn": "warned", "fail": "failed"}
    parts = [f"{counts.pop(k, 0)} {v}" for k, v in named.items()]
    parts += [f"{n} {status}" for status, n in sorted(counts.items())]
    text = ", ".join(parts) or "nothing to build"
    failed = [r for r in results if r["status"] in ("error", "fail")]
    if failed:  # unique_id: <type>.<project>.<name>[.<hash>]
        named = [f"{r['unique_id'].split('.')[2]} ({_dbt_reason(r['message'])})" for r in failed]
        more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
        text += f"; failed: {'; '.join(named[:3])}{more}"
    return text


def _dbt_reason(message: str | None) -> str:
    """The line of a dbt node's error that says what is wrong: the one after dbt's header
    ("Runtime Error in model x (path)"), else the first."""
    lines = [x.strip() for x in (message or "").splitlines() if x.strip()] or ["no message"]
    header = " Error in " in lines[0] and lines[0].endswith(")")
    return (lines[1] if header and len(lines) > 1 else lines[0])[:150]


def check_marts(settings: Settings) -> bool:
    """Run the mart suites; False (and the broken promises printed) when a mart breaks one."""
    return marts_keep_promises(settings.warehouse, _say)


def _built_warehouse(settings: Settings) -> Path:
    """The warehouse a command reads; a missing one is the user's to fix (exit 2)."""
    if not settings.warehouse.exists():
        raise ValueError(
            f"warehouse {settings.warehouse} does not exist: run `outcomes run` first, or pass "
            "--warehouse or set OUTCOMES_WAREHOUSE"
        )
    return settings.warehouse


def cmd_publish(args: argparse.Namespace) -> int:
    """Check the marts' promises, then publish them to the serve database."""
    settings = _settings(args)
    _built_warehouse(settings)
    try:
        audit_and_publish(
            settings.warehouse,
            settings.serve,
            Path(args.parquet) if args.parquet else None,
            progress=_say,
        )
    except MartsBreakPromises as exc:
        _say(str(exc))
        return 1
    return 0


def cmd_validate_marts(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _built_warehouse(settings)
    return 0 if check_marts(settings) else 1


def cmd_gx_init(args: argparse.Namespace) -> int:
    from .gx_suites import GX_DIR, init_project

    init_project()
    _say(f"Great Expectations project written to {GX_DIR}")
    return 0


def cmd_contract_doc(args: argparse.Namespace) -> int:
    from .contract_doc import write

    _say(f"raw contract written to {write()}")
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """List the quarantined rows awaiting a fix (of one table with --table, with an example per
    rule), or export a table's to CSV to fix and drop into the landing folder they came from."""
    settings = _settings(args)
    if args.export and not args.table:
        raise ValueError("--export needs --table: the table whose quarantined rows to write")
    con = duckdb.connect(str(_built_warehouse(settings)), read_only=True)
    try:
        if not args.export:
            # A row counts once under each rule it breaks and once in the total, however often
            # it was delivered.
            waiting = """from raw._quarantine
                where reloaded_at is null and coalesce(table_name = ?, true)"""
            rows = con.execute(
                f"""select table_name, column_name, rule, count(distinct original_row),
                    min(original_row::varchar) {waiting} group by all order by all""",
                [args.table],
            ).fetchall()
            for table, column, rule, n, example in rows:
                _say(f"  {table}.{column}: {rule}: {n:,} row(s)")
                if args.table:
                    _say(f"    e.g. {example[:160]}")
            total = con.execute(
                f"select count(distinct (table_name, original_row)) {waiting}", [args.table]
            ).fetchone()[0]
            _say(f"{total:,} quarantined row(s) awaiting a fix")
            return 0
        table = TABLES[args.table]
        frame = con.execute(
            """select distinct original_row from raw._quarantine
            where table_name = ? and reloaded_at is null""",
            [table.name],
        ).df()
        # Where the rows came from: the fixed file goes back into the same table folder.
        folders = sorted(
            {
                str(Path(r[0]).parent)
                for r in con.execute(
                    """select distinct source_file from raw._quarantine
                    where table_name = ? and reloaded_at is null""",
                    [table.name],
                ).fetchall()
            }
        )
    finally:
        con.close()
    import json

    import pandas as pd

    if frame.empty:
        _say(f"no quarantined {table.name} rows awaiting a fix: nothing written")
        return 0
    rows = [json.loads(r) for r in frame["original_row"]]
    out = pd.DataFrame(rows, columns=table.column_names)
    out.to_csv(args.export, index=False)
    into = " or ".join(f"{folder}/" for folder in folders) or f"{settings.landing / table.name}/"
    _say(
        f"wrote {len(out):,} quarantined {table.name} row(s) to {args.export}; fix them and put "
        f"the file in {into} to load them"
    )
    return 0


def summarize(settings: Settings) -> None:
    from .config import apply_duckdb_limits

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        apply_duckdb_limits(con, settings.warehouse)
        _say(f"warehouse: {settings.warehouse}")
        _say(f"  {'table':<22}{'raw rows':>12}{'staged rows':>14}")
        # Staging tables only: the staged events are a view that de-duplicates the whole event
        # history, too costly to count for a summary (20 s at 100 M events).
        staged = {
            r[0]
            for r in con.execute(
                """select table_name from information_schema.tables
                where table_schema = 'staging' and table_type = 'BASE TABLE'"""
            ).fetchall()
        }
        for name, table in TABLES.items():
            raw = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
            model = f"stg_{table.system}__{name}"
            n = "(a view)"
            if model in staged:
                n = f"{con.execute(f'select count(*) from staging.{model}').fetchone()[0]:,}"
            _say(f"  {name:<22}{raw:>12,}{n:>14}")
        q = con.execute(
            """select count(distinct (table_name, original_row)) from raw._quarantine
            where reloaded_at is null"""
        ).fetchone()[0]
        _say(f"  quarantined rows awaiting a fix: {q:,} (raw._quarantine)")
        _summarize_marts(con)
    finally:
        con.close()


def _summarize_freshness(con) -> None:
    stale = con.execute(
        """select as_of_date, newest_data_date, days_past_newest_data, freshness_warn_days
        from marts.fct_data_freshness where is_stale"""
    ).fetchone()
    if stale and stale[1] is None:
        _say(f"WARNING: no data is loaded up to the as-of date {stale[0]:%Y-%m-%d}")
    elif stale:
        _say(
            f"WARNING: the data ends on {stale[1]:%Y-%m-%d}, {stale[2]} days before the as-of "
            f"date {stale[0]:%Y-%m-%d} (more than var freshness_warn_days, {stale[3]}): "
            "figures for the days since are extrapolated (renewals due since count as churn); "
            f"--as-of {stale[1]:%Y-%m-%d} builds as of the data's end"
        )


NO_MODEL = {
    "no_signal": "the model found no signal in this data: no account is ranked",
    "too_few": "too few closed renewals to train a model (var renewal_min_training)",
    "one_class": "every closed renewal had the same outcome: no model can be trained",
}


def _summarize_marts(con) -> None:
    _summarize_freshness(con)
    month = con.execute(
        """select month_start, grr, nrr, grr_ttm, nrr_ttm, ending_arr, accounts_at_end
        from marts.fct_customer_metrics_monthly
        where segment = 'all' and is_complete_month order by month_start desc limit 1"""
    ).fetchone()
    if month:
        _say(
            f"latest complete month {month[0]:%Y-%m}: ARR {month[5]:,.0f} "
            f"from {month[6]} accounts; "
            f"GRR {month[1]:.1%}, NRR {month[2]:.1%} (trailing 12 months: GRR {month[3]:.1%}, "
            f"NRR {month[4]:.1%})"
        )
    survey = con.execute(
        """select month_start, nps, nps_responses from marts.fct_customer_metrics_monthly
        where segment = 'all' and nps_responses > 0 order by month_start desc limit 1"""
    ).fetchone()
    if survey:
        _say(f"latest NPS {survey[1]:+.0f} ({survey[2]} responses, {survey[0]:%Y-%m})")
    gaps = con.execute(
        "select gap_type, count(*), sum(arr) from marts.fct_success_gaps group by 1 order by 2 desc"
    ).fetchall()
    _say("success gaps: " + ", ".join(f"{g} {n} (ARR {a:,.0f})" for g, n, a in gaps))
    for row in con.execute(
        """select account_name, arr, vendor_view_score, customer_view_score, days_to_renewal
        from marts.fct_success_gaps where gap_type = 'usage_trap'
        order by arr desc limit 5"""
    ).fetchall():
        _say(
            f"  usage trap: {row[0]}: ARR {row[1]:,.0f}, health {row[2]:.0f} vs customer view "
            f"{row[3]:.0f}, "
            + (f"renewal in {row[4]} days" if row[4] is not None else "no renewal date")
        )
    if con.execute(
        """select count(*) from information_schema.tables
        where table_name = 'fct_renewal_predictions'"""
    ).fetchone()[0]:
        status = con.execute(
            "select min(model_status) from marts.fct_renewal_predictions"
        ).fetchone()[0]
        if status in NO_MODEL:
            _say(f"renewal risk: {NO_MODEL[status]}")
        for row in con.execute(
            """select a.account_name, p.renewal_date, p.renewal_probability, p.arr_at_risk,
                      p.top_drivers
            from marts.fct_renewal_predictions as p
            inner join marts.dim_accounts as a on p.account_id = a.account_id
            where p.model_status = 'ok'
            order by p.arr_at_risk desc limit 5"""
        ).fetchall():
            _say(
                f"  renewal risk: {row[0]} on {row[1]:%Y-%m-%d}: p(renew) {row[2]:.0%}, "
                f"ARR at risk {row[3]:,.0f}; {row[4]}"
            )
    triggers = con.execute("select count(*) from marts.fct_intervention_queue").fetchone()[0]
    accounts, queues, in_progress = con.execute(
        """select count(*), count(distinct queue), count(*) filter (where status = 'in_progress')
        from marts.fct_csm_worklist"""
    ).fetchone()
    _say(
        f"CSM worklist: {accounts} account(s) in {queues} queue(s), {in_progress} with a play "
        f"in progress (marts.fct_csm_worklist); {triggers} open trigger(s) in all "
        "(marts.fct_intervention_queue)"
    )


def _iso_date(text: str) -> str:
    """An --as-of value: a real date as YYYY-MM-DD (argparse says what is wrong, exit 2)."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def _add_demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--accounts", type=int, default=500, help="number of accounts (default 500)")
    p.add_argument("--days", type=int, default=730, help="days of history (default 730)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--end-date", help="last day of the data, YYYY-MM-DD (default: today)")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="outcomes",
        description="Customer outcomes warehouse: demo data, loading, dbt build.",
        epilog="Locations default to $OUTCOMES_LANDING, $OUTCOMES_WAREHOUSE, $OUTCOMES_SERVE.",
    )
    sub = root.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write the demo data set in the landing layout")
    _add_demo_args(g)
    g.add_argument("--out", help="landing directory to write (default $OUTCOMES_LANDING)")
    g.set_defaults(func=cmd_generate)

    ld = sub.add_parser("load", help="load new landing files into the raw schema")
    ld.add_argument("--landing", help="landing directory (default $OUTCOMES_LANDING)")
    ld.add_argument("--warehouse", help="DuckDB file (default $OUTCOMES_WAREHOUSE)")
    ld.set_defaults(func=cmd_load)

    v = sub.add_parser(
        "validate", help="validate landing files against the contract without loading them"
    )
    v.add_argument("--landing", help="landing directory (default $OUTCOMES_LANDING)")
    v.add_argument("--warehouse", help="DuckDB file (default $OUTCOMES_WAREHOUSE)")
    v.set_defaults(func=cmd_validate)

    vm = sub.add_parser("validate-marts", help="check the built marts' promises (GX)")
    vm.add_argument("--warehouse", help="DuckDB file (default $OUTCOMES_WAREHOUSE)")
    vm.set_defaults(func=cmd_validate_marts)

    q = sub.add_parser("quarantine", help="list quarantined rows, or export them to fix")
    q.add_argument("--warehouse", help="DuckDB file (default $OUTCOMES_WAREHOUSE)")
    q.add_argument("--landing", help="landing directory (default $OUTCOMES_LANDING)")
    q.add_argument("--table", choices=sorted(TABLES), help="table to export")
    q.add_argument("--export", help="CSV file to write the table's quarantined rows to")
    q.set_defaults(func=cmd_quarantine)

    pb = sub.add_parser("publish", help="check the marts, then publish them for BI tools")
    pb.add_argument("--warehouse", help="build DuckDB file (default $OUTCOMES_WAREHOUSE)")
    pb.add_argument("--parquet", help="also export every mart as Parquet into this folder")
    pb.set_defaults(func=cmd_publish)

    gi = sub.add_parser("gx-init", help="rewrite the Great Expectations project from code")
    gi.set_defaults(func=cmd_gx_init)

    cd = sub.add_parser("contract-doc", help="rewrite docs/raw-contract.md from the contract")
    cd.set_defaults(func=cmd_contract_doc)

    b = sub.add_parser("build", help="dbt build (extra arguments go to dbt)")
    b.add_argument("--warehouse", help="DuckDB file (default $OUTCOMES_WAREHOUSE)")
    b.add_argument("--as-of", type=_iso_date, help=AS_OF_HELP)
    b.add_argument("dbt_args", nargs=argparse.REMAINDER, help="passed on to dbt build")
    b.set_defaults(func=cmd_build)

    cr = sub.add_parser(
        "copy-raw", help="copy the validated raw tables to Postgres (or Parquet for Spark)"
    )
    cr.add_argument("--to", choices=["postgres", "parquet"], required=True)
    cr.add_argument("--warehouse", help="DuckDB file (default $OUTCOMES_WAREHOUSE)")
    cr.add_argument("--out", help="folder for --to parquet (default next to the warehouse)")
    cr.set_defaults(func=cmd_copy_raw)

    bn = sub.add_parser(
        "bench", help="scale benchmark: event path vs DuckDB floor, incremental vs full"
    )
    bn.add_argument("--scale", default="1M", help="usage events to generate: 1M, 10M, 100M")
    bn.add_argument("--workdir", help="where the bench data goes (default /tmp/outcomes-bench-S)")
    bn.add_argument(
        "--memory-limit", help="DuckDB memory_limit for the run (default $OUTCOMES_MEMORY_LIMIT)"
    )
    bn.add_argument(
        "--engines",
        help="also build and test the same data on these engines, side by side: "
        "duckdb,postgres,spark (Postgres from the OUTCOMES_PG_* variables; Spark needs "
        ".venv-spark)",
    )
    bn.add_argument(
        "--load",
        choices=["validated", "bulk"],
        default="validated",
        help="validated: the real loader (contract checks); bulk: events inserted unchecked, "
        "to reach 100M quickly (the other tables and the new day still load validated)",
    )
    bn.add_argument(
        "--reuse",
        action="store_true",
        help="keep the workdir's generated and loaded data and start at the full build",
    )
    bn.set_defaults(func=cmd_bench)

    r = sub.add_parser(
        "run",
        help="end to end: load, build, check, publish, summary (a first run with an empty "
        "landing dir generates the demo data)",
    )
    _add_demo_args(r)
    r.add_argument("--landing", help="landing directory (default $OUTCOMES_LANDING)")
    r.add_argument("--warehouse", help="build DuckDB file (default $OUTCOMES_WAREHOUSE)")
    r.add_argument("--serve", help="serve DuckDB file for BI (default $OUTCOMES_SERVE)")
    r.add_argument("--as-of", type=_iso_date, help=AS_OF_HELP)
    r.add_argument("--all", action="store_true", help=ALL_HELP)
    r.add_argument(
        "-v", "--verbose", action="store_true", help="print dbt's and Dagster's full log here"
    )
    r.add_argument(
        "--full-refresh",
        action="store_true",
        help="run the full_refresh job instead: everything, incremental models rebuilt whole",
    )
    r.set_defaults(func=cmd_run)
    return root


def main(argv: list[str] | None = None) -> int:
    root = parser()
    args, unknown = root.parse_known_args(argv)
    # `outcomes build --full-refresh --select x` and `outcomes build -- --select x` both pass
    # their dbt options on (argparse's remainder alone misses options before any positional).
    if getattr(args, "func", None) is cmd_build:
        args.dbt_args = [a for a in [*unknown, *args.dbt_args] if a != "--"]
    elif unknown:
        root.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.func(args)
    except (ValueError, OSError, duckdb.Error) as exc:
        print(f"outcomes {args.command}: error: {exc}", file=sys.stderr)
        return 2


def entry() -> None:
    """The `outcomes` script."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
