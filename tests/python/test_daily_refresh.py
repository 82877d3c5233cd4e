"""The nightly schedule's `refresh` job, day after day (tests/python/daily.py): every run but the
killed one succeeds, a run materializes exactly what it rebuilds, the serve file is never half
written, and after the last day the warehouse equals a build from scratch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import DevTools, chromium, free_port
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
from customer_outcomes.config import PROJECT_DIR, Settings
from customer_outcomes.defs.automation import DBT_OPS, FULL_REFRESH_CONFIG
from customer_outcomes.demo import generate

pytestmark = pytest.mark.slow

MARTS = 22
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "dagster"
SKIP_WELCOME = """Array.from(document.querySelectorAll('button'))
    .filter((b) => b.innerText.trim() === 'Skip').forEach((b) => b.click())"""


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
            assert {AssetKey("serve_database"), AssetKey(["marts", "dim_accounts"])} <= materialized
        else:
            # Only what the run rebuilt is materialized, and every check that ran is of one.
            assert materialized == set(request.asset_selection)
            assert checked <= materialized
            assert not _events(instance, run_id, DagsterEventType.STEP_SKIPPED)
        longest = max(len(r.user_message or "") for r in instance.all_logs(run_id))
        assert longest <= 2000, f"day {day}: a log line of {longest} characters"
        if day == 2:  # nothing new: no landing table, no event model
            quiet_run = run_id
            assert not {k for k in materialized if k.path[0] in ("product", "billing", "crm")}
            assert AssetKey(["marts", "fct_account_usage_daily"]) not in materialized
            assert AssetKey(["marts", "dim_accounts"]) in materialized
        if day == 3:
            assert AssetKey(["billing", "contracts"]) in materialized
            assert AssetKey(["success", "customer_goals"]) in materialized
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
            # The weekly job's config, but on the profile's two threads: the data is small.
            "ops": {op: {"config": {**FULL_REFRESH_CONFIG, "threads": 0}} for op in DBT_OPS},
            "resources": {"outcomes": {"config": {"as_of": as_of(LAST_DAY)}}},
        },
    )
    assert full.success
    assert differences(settings.warehouse, reference.warehouse) == []
    assert differences(settings.serve, reference.serve, ("marts",)) == []
    screenshot_run_and_checks(tmp_path / "dagster", quiet_run, tmp_path)


def _webserver(dagster_home: Path, log: Path):
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "customer_outcomes.defs"]
    cmd += ["-h", "127.0.0.1", "-p", str(port)]
    env = dict(os.environ, DAGSTER_HOME=str(dagster_home))
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                return proc, url
        except OSError:
            pass
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "dagster-webserver did not start"
        time.sleep(0.5)


def _page_text(browser: DevTools, session: str, expected: list[str], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = browser.evaluate("document.body ? document.body.innerText : ''", session) or ""
        if all(e in text for e in expected):
            # The UI's first visit asks to join its community: skip it, then let the last
            # requests finish drawing.
            browser.evaluate(SKIP_WELCOME, session)
            time.sleep(1.0)
            return browser.evaluate("document.body.innerText", session)
        time.sleep(0.5)
    return text


def screenshot_run_and_checks(dagster_home: Path, run_id: str, tmp_path: Path) -> None:
    """The Dagster UI of the test's instance, in headless Chromium: the page of a daily run
    and the checks of a mart that run built, saved under test-artifacts/dagster/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = _webserver(dagster_home, ARTIFACTS / "webserver.log")
    browser = DevTools(chromium(), tmp_path / "chromium-profile", ARTIFACTS / "chromium.log")
    try:
        session = browser.open(f"{url}/runs/{run_id}")
        text = _page_text(browser, session, ["Success", "dbt_models", "serve_database"])
        browser.screenshot(ARTIFACTS / "run.png", session)
        assert "Success" in text and "dbt_models" in text, text[:2000]
        session = browser.open(f"{url}/assets/marts/fct_account_health?view=checks")
        text = _page_text(browser, session, ["unique_combination_of_columns", "Passed"])
        browser.screenshot(ARTIFACTS / "asset_checks.png", session)
        assert "unique_combination_of_columns" in text, text[:2000]
        for name in ("run.png", "asset_checks.png"):
            assert (ARTIFACTS / name).stat().st_size > 10_000
    finally:
        browser.close()
        proc.terminate()
        proc.wait(20)
