"""The nightly refresh, day after day (tests/python/daily.py), through `outcomes run`, which runs
the Dagster `refresh` job of the same definitions the schedule runs. Each day the nightly
schedule is evaluated first and must request the very selection the command then runs. Every
run but the killed one succeeds and materializes exactly what it rebuilds, a rejected file is
reported and the rest builds, the serve file is never half written, and after the last day the
warehouse equals a build from scratch by the weekly `full_refresh` job."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import DevTools, chromium, free_port
from dagster import AssetKey, DagsterEventType, DagsterRunStatus, build_schedule_context
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
from customer_outcomes.defs.automation import nightly
from customer_outcomes.demo import generate

pytestmark = pytest.mark.slow

MARTS = 22
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "dagster"
SKIP_WELCOME = """Array.from(document.querySelectorAll('button'))
    .filter((b) => b.innerText.trim() === 'Skip').forEach((b) => b.click())"""


def _events(instance, run_id: str, kind: DagsterEventType) -> list:
    return [
        r.dagster_event
        for r in instance.all_logs(run_id)
        if r.dagster_event and r.dagster_event.event_type == kind
    ]


def _selection(keys) -> set | None:
    """A run's or a request's asset keys; None for every asset (a run records none, empty)."""
    return set(keys) if keys else None


def test_the_nightly_refresh_day_after_day(tmp_path, monkeypatch):
    settings = Settings(
        tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "serve.duckdb"
    )
    # The locations the schedule and the commands read, and the Dagster instance they share.
    for name, path in (
        ("OUTCOMES_LANDING", settings.landing),
        ("OUTCOMES_WAREHOUSE", settings.warehouse),
        ("OUTCOMES_SERVE", settings.serve),
        ("DAGSTER_HOME", tmp_path / "dagster"),
    ):
        monkeypatch.setenv(name, str(path))
    generate(SPEC, settings.landing, progress=lambda _: None)
    instance = dagster_instance()
    served, killed = [], None
    for day in range(LAST_DAY + 1):
        delivery = deliver(settings, day) if day else None
        request = nightly(build_schedule_context(instance=instance))
        if day == KILLED_DAY + 1:  # the schedule marks the killed run failed, as the CLI does
            assert instance.get_run_by_id(killed.run_id).status == DagsterRunStatus.FAILURE
        cmd = outcomes_cmd("run", "--as-of", as_of(day))
        if day == KILLED_DAY:
            kill_in_dbt(cmd, dict(os.environ), tmp_path / "killed.log")
            killed = instance.get_runs(limit=1)[0]
            assert not killed.is_success
            assert _selection(killed.asset_selection) == _selection(request.asset_selection)
            assert serve_state(settings.serve) == served[-1], (
                "the killed run touched the serve file"
            )
            continue
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, f"day {day}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        run = instance.get_runs(limit=1)[0]
        assert run.is_success
        # The run the schedule would have launched: the same job, the same assets.
        assert run.job_name == nightly.job_name
        assert _selection(run.asset_selection) == _selection(request.asset_selection)
        materialized = {
            e.asset_key
            for e in _events(instance, run.run_id, DagsterEventType.ASSET_MATERIALIZATION)
        }
        checked = {
            e.event_specific_data.asset_key
            for e in _events(instance, run.run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
        }
        if day == 0:
            assert "no warehouse yet: everything" in done.stdout
            assert request.asset_selection is None
            assert {AssetKey("serve_database"), AssetKey(["marts", "dim_accounts"])} <= materialized
        else:
            # Only what the run rebuilt is materialized, and every check that ran is of one.
            assert materialized == set(request.asset_selection)
            assert checked <= materialized
            assert not _events(instance, run.run_id, DagsterEventType.STEP_SKIPPED)
        longest = max(len(r.user_message or "") for r in instance.all_logs(run.run_id))
        assert longest <= 2000, f"day {day}: a log line of {longest} characters"
        if day == 2:  # nothing new: no landing table, no event model
            quiet_run = run.run_id
            assert not {k for k in materialized if k.path[0] in ("product", "billing", "crm")}
            assert AssetKey(["marts", "fct_account_usage_daily"]) not in materialized
            assert AssetKey(["marts", "dim_accounts"]) in materialized
        if day == 3:
            assert AssetKey(["billing", "contracts"]) in materialized
            assert AssetKey(["success", "customer_goals"]) in materialized
        if day == 4:
            failed = [
                e.event_specific_data
                for e in _events(instance, run.run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
                if not e.event_specific_data.passed
            ]
            assert [c.asset_key for c in failed] == [AssetKey(["surveys", "nps_responses"])]
            assert delivery.rejected in failed[0].metadata["rejected_files"].value
            # The day's events and the orphans' file load: 10 orphans, 2 of them quarantined.
            loaded = f"{delivery.events + 8:,} rows loaded, 2 quarantined"
            assert f"load: 2 file(s), {loaded}" in done.stdout, done.stdout
            assert "quarantined (outcomes quarantine lists them), 1 file(s) rejected" in done.stdout
            assert (
                "check failed: surveys/nps_responses raw_contract: nps_responses: "
                f"{delivery.rejected}: missing required column(s): score"
            ) in done.stdout
        if day == LAST_DAY:  # the killed run, marked failed, and its assets built again
            last = f"with the assets of the last run ({killed.run_id[:8]}, failure)"
            assert last in done.stdout
            assert set(killed.asset_selection) <= materialized
        state = serve_state(settings.serve)
        assert sum(t != "_published" for t in state[1]) == MARTS
        served.append(state)

    # The same landing files built from scratch as of the last day by the weekly job.
    reference = Settings(
        settings.landing, tmp_path / "ref" / "warehouse.duckdb", tmp_path / "ref" / "serve.duckdb"
    )
    env = dict(
        os.environ,
        OUTCOMES_WAREHOUSE=str(reference.warehouse),
        OUTCOMES_SERVE=str(reference.serve),
    )
    cmd = outcomes_cmd("run", "--full-refresh", "--as-of", as_of(LAST_DAY))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert instance.get_runs(limit=1)[0].job_name == "full_refresh"
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
