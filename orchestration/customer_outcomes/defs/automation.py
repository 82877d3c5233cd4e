"""Jobs, schedules and the landing sensor."""

import hashlib

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from ..config import Settings
from ..load import landing_files

# Run-level concurrency: the instance (dagster_home/dagster.yaml) allows one run with this tag.
WRITER = {"outcomes/warehouse": "writer"}

refresh_job = define_asset_job(
    "refresh",
    selection=AssetSelection.all(),
    tags=WRITER,
    description="Validate and load new landing files, dbt build (incremental), publish.",
)
full_refresh_job = define_asset_job(
    "full_refresh",
    selection=AssetSelection.all(),
    tags=WRITER,
    config={"ops": {"dbt_models": {"config": {"full_refresh": True}}}},
    description="The same with dbt --full-refresh: rebuilds the incremental models (the renewal "
    "model trains when the renewals decided by the week's Monday changed, as in any build).",
)


@schedule(job=refresh_job, cron_schedule="0 5 * * *", default_status=DefaultScheduleStatus.RUNNING)
def nightly(context):
    return RunRequest()


@schedule(
    job=full_refresh_job, cron_schedule="0 3 * * 0", default_status=DefaultScheduleStatus.RUNNING
)
def weekly(context):
    return RunRequest()


def landing_fingerprint(settings: Settings) -> str:
    files, _ = landing_files(settings.landing)
    digest = hashlib.sha256()
    for table in sorted(files):
        for path in files[table]:
            stat = path.stat()
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@sensor(job=refresh_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING)
def landing_sensor(context: SensorEvaluationContext):
    """Start a refresh when the landing directory's files change."""
    fingerprint = landing_fingerprint(Settings.from_env())
    if fingerprint == context.cursor:
        return SkipReason("no new landing files")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=fingerprint)
