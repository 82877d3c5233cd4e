"""Jobs, schedules and the landing sensor.

The nightly schedule and the landing sensor launch the `refresh` job with the assets a daily
refresh builds (plan.py); the weekly schedule rebuilds everything with dbt --full-refresh,
which also picks up data that arrived later than the incremental models' windows. All start
switched off: turn them on in the Dagster UI (Automation) or in dagster.yaml's deployment.
"""

from __future__ import annotations

import hashlib

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from ..config import Settings
from ..load import landing_files
from ..plan import PLAN_TAG, WRITER, RefreshPlan, close_abandoned_run, plan_refresh, run_tags
from .assets import (
    dbt_keys_by_unique_id,
    dbt_models,
    landing_tables,
    renewal_marts,
    renewal_model,
    serve_database,
)

refresh_job = define_asset_job(
    "refresh",
    selection=AssetSelection.all(),
    tags=WRITER,
    description="Validate and load new landing files, dbt build (incremental) of what they and "
    "the new day change, publish. Launched with the assets plan.py selects.",
)
# The weekly full refresh runs one dbt node at a time: its event models each read the whole
# history, and side by side they share DuckDB's memory_limit and spill (DECISIONS.md, "Schedules,
# sensor, concurrency, retries").
FULL_REFRESH_CONFIG = {"full_refresh": True, "threads": 1}
DBT_OPS = ("dbt_models", "renewal_marts")
full_refresh_job = define_asset_job(
    "full_refresh",
    selection=AssetSelection.all(),
    tags=WRITER,
    config={"ops": {op: {"config": FULL_REFRESH_CONFIG} for op in DBT_OPS}},
    description="Everything, with dbt --full-refresh: rebuilds the incremental models whole and "
    "runs the data tests that read the whole event history.",
)


ASSETS = [landing_tables, dbt_models, renewal_model, renewal_marts, serve_database]


def _downstream(keys: set) -> set:
    return set(AssetSelection.assets(*keys).downstream().resolve(ASSETS)) if keys else set()


def refresh_plan(settings: Settings, instance) -> RefreshPlan:
    """The plan of a daily refresh of ``settings`` with this project's assets."""
    return plan_refresh(
        settings,
        instance,
        dbt_keys_by_unique_id(),
        frozenset({serve_database.key}),
        downstream=_downstream,
    )


def refresh_request(settings: Settings, instance, run_key: str | None = None) -> RunRequest:
    """The run the schedule or the sensor requests. A killed `outcomes run` is marked failed
    first: still marked started, it would hold the one-writer slot and queue this run."""
    close_abandoned_run(instance, settings)
    plan = refresh_plan(settings, instance)
    return RunRequest(
        run_key=run_key,
        asset_selection=None if plan.asset_keys is None else sorted(plan.asset_keys),
        tags={**run_tags(settings), PLAN_TAG: plan.describe()[:1000]},
    )


@schedule(job=refresh_job, cron_schedule="0 5 * * *", default_status=DefaultScheduleStatus.STOPPED)
def nightly(context: ScheduleEvaluationContext):
    return refresh_request(Settings.from_env(), context.instance)


@schedule(
    job=full_refresh_job,
    cron_schedule="0 3 * * 0",
    default_status=DefaultScheduleStatus.STOPPED,
)
def weekly(context: ScheduleEvaluationContext):
    return RunRequest(tags=run_tags(Settings.from_env()))


def landing_fingerprint(settings: Settings) -> str:
    files, _ = landing_files(settings.landing)
    digest = hashlib.sha256()
    for table in sorted(files):
        for path in files[table]:
            stat = path.stat()
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@sensor(job=refresh_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED)
def landing_sensor(context: SensorEvaluationContext):
    """Start a refresh when the landing directory's files change."""
    settings = Settings.from_env()
    fingerprint = landing_fingerprint(settings)
    if fingerprint == context.cursor:
        return SkipReason("no new landing files")
    context.update_cursor(fingerprint)
    return refresh_request(settings, context.instance, run_key=fingerprint)
