"""The nightly schedule's `refresh` job, day after day (tests/python/daily.py): every run but the
killed one succeeds, a run materializes exactly what it rebuilds, the serve file is never half
written, and after the last day the warehouse equals a build from scratch."""

from __future__ import annotations

import os

import pytest
from dagster import AssetKey, DagsterEventType, build_schedule_context
from daily import (
    KILLED_DAY,
    LAST_DAY,
    SPEC,
    as_of,
    deliver,
    differences,
    kill_in_dbt,
    outcomes_cmd,
    serve_state,
)

from customer_outcomes.cli import dagster_instance
from customer_outcomes.config import Settings
from customer_outcomes.demo import generate

pytestmark = pytest.mark.slow

MARTS = 17


def _run_day(defs, instance, day: int):
    """What the nightly schedule does on ``day``: its RunRequest, run by the refresh job."""
    from customer_outcomes.defs.automation import nightly

    request = nightly(build_schedule_context(instance=instance))
    job = defs.resolve_job_def(nightly.job_name)
    return request, job.execute_in_process(
        instance=instance,
        asset_selection=request.asset_selection,
        tags=request.tags,
        run_config={"resources": {"outcomes": {"config": {"as_of": as_of(day)}}}},
        raise_on_error=False,
    )


def _events(instance, run_id: str, kind: DagsterEventType) -> list:
    return [
        r.dagster_event
        for r in instance.all_logs(run_id)
        if r.dagster_event and r.dagster_event.event_type == kind
    ]


def test_the_nightly_schedule_runs_the_refresh_day_after_day(tmp_path, monkeypatch):
    settings = Settings(
        tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "serve.duckdb"
    )
    for name, path in (
        ("OUTCOMES_LANDING", settings.landing),
        ("OUTCOMES_WAREHOUSE", settings.warehouse),
        ("OUTCOMES_SERVE", settings.serve),
        ("DAGSTER_HOME", tmp_path / "dagster"),
    ):
        monkeypatch.setenv(name, str(path))
    generate(SPEC, settings.landing, progress=lambda _: None)
    instance = dagster_instance()
    from customer_outcomes.defs import build_definitions

    defs = build_definitions()
    served = []
    for day in range(LAST_DAY + 1):
        delivery = deliver(settings, day) if day else None
        if day == KILLED_DAY:
            kill_in_dbt(
                outcomes_cmd("run", "--as-of", as_of(day)),
                dict(os.environ),
                tmp_path / "killed.log",
            )
            killed = instance.get_runs(limit=1)[0]
            assert not killed.is_success
            assert serve_state(settings.serve) == served[-1], (
                "the killed run touched the serve file"
            )
            continue
        request, result = _run_day(defs, instance, day)
        assert result.success, f"day {day} failed"
        run_id = result.run_id
        materialized = {
            e.asset_key for e in _events(instance, run_id, DagsterEventType.ASSET_MATERIALIZATION)
        }
        checked = {
            e.event_specific_data.asset_key
            for e in _events(instance, run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
        }
        if day == 0:
            assert request.asset_selection is None  # no warehouse yet: everything
        else:
            # Only what the run rebuilt is materialized, and every check that ran is of one.
            assert materialized == set(request.asset_selection)
            assert checked <= materialized
            assert not _events(instance, run_id, DagsterEventType.STEP_SKIPPED)
        longest = max(len(r.user_message or "") for r in instance.all_logs(run_id))
        assert longest <= 2000, f"day {day}: a log line of {longest} characters"
        if day == 2:  # nothing new: no landing table, no event model
            assert not {k for k in materialized if k.path[0] in ("product", "billing", "crm")}
            assert AssetKey(["marts", "fct_account_usage_daily"]) not in materialized
            assert AssetKey(["marts", "dim_accounts"]) in materialized
        if day == 3:
            assert AssetKey(["billing", "contracts"]) in materialized
        if day == 4:
            failed = [
                e.event_specific_data
                for e in _events(instance, run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
                if not e.event_specific_data.passed
            ]
            assert [c.asset_key for c in failed] == [AssetKey(["surveys", "nps_responses"])]
            assert delivery.rejected in failed[0].metadata["rejected_files"].value
        if day == LAST_DAY:  # the killed run's assets are built again
            killed_selection = set(killed.asset_selection)
            assert killed_selection <= materialized
        state = serve_state(settings.serve)
        assert sum(t != "_published" for t in state[1]) == MARTS
        served.append(state)

    # The same landing files built from scratch as of the last day.
    reference = Settings(
        settings.landing, tmp_path / "reference.duckdb", tmp_path / "ref_serve.duckdb"
    )
    monkeypatch.setenv("OUTCOMES_WAREHOUSE", str(reference.warehouse))
    monkeypatch.setenv("OUTCOMES_SERVE", str(reference.serve))
    full = defs.resolve_job_def("full_refresh").execute_in_process(
        instance=instance,
        run_config={
            "ops": {"dbt_models": {"config": {"full_refresh": True}}},
            "resources": {"outcomes": {"config": {"as_of": as_of(LAST_DAY)}}},
        },
    )
    assert full.success
    assert differences(settings.warehouse, reference.warehouse) == []
    assert differences(settings.serve, reference.serve, ("marts",)) == []
