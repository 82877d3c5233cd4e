"""What a daily refresh builds: the assets of the Dagster `refresh` job a run selects.

The nightly schedule, the landing sensor and `outcomes run` launch the job with the asset
selection this module plans, so a run materializes only what it rebuilds and runs only those
assets' checks. The dbt part is chosen by dbt itself (`dbt ls`) with its own selectors:

* ``source:<system>.<table>+`` for every table with landing files waiting to load;
* ``tag:as_of+``: the models that read the as-of date (and below them), which a new day moves;
* ``state:modified+`` against the manifest of the last successful build of this warehouse
  (``Settings.dbt_state``): models, seeds and macros changed since.

Everything is built on the first run (no warehouse, or no recorded state). A run that did not
succeed (failed, or killed and so still marked started) is made good by the next one, whose
selection includes that run's: the Dagster instance keeps each run's selection and status.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from .config import Settings
from .contract import TABLES
from .dbt import dbt_ls
from .load import pending_files

# Every run of the project's jobs carries these tags; WAREHOUSE_TAG names the warehouse it
# writes, so runs of other warehouses sharing the instance are not mistaken for this one's.
WRITER = {"outcomes/warehouse": "writer"}
WAREHOUSE_TAG = "outcomes/warehouse_path"
# A run started by `outcomes run` records its process id: a run still marked started whose
# process has ended was killed, and is marked failed before the next run plans.
PID_TAG = "outcomes/pid"
# A run of the plan's selection carries the plan; such a run, or one of every asset, records
# the state the next plan compares the project with (a partial run from the UI does not).
PLAN_TAG = "outcomes/plan"


def landing_key(table: str) -> AssetKey:
    """The key dbt gives the table's source, so lineage runs from ingest into dbt."""
    return AssetKey([TABLES[table].system, table])


@dataclass(frozen=True)
class RefreshPlan:
    """The assets a refresh run selects (None: every asset) and why."""

    asset_keys: frozenset[AssetKey] | None
    reasons: list[str] = field(default_factory=list)

    def describe(self) -> str:
        what = "every asset" if self.asset_keys is None else f"{len(self.asset_keys)} assets"
        return f"{what}: {'; '.join(self.reasons)}"


def run_tags(settings: Settings) -> dict[str, str]:
    return {**WRITER, WAREHOUSE_TAG: str(settings.warehouse.resolve())}


def last_run(instance: DagsterInstance, settings: Settings):
    """The newest run of the project's jobs for this warehouse, None when there is none."""
    runs = instance.get_runs(
        filters=RunsFilter(tags={WAREHOUSE_TAG: str(settings.warehouse.resolve())}), limit=1
    )
    return runs[0] if runs else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_abandoned_run(instance: DagsterInstance, settings: Settings) -> None:
    """Mark failed the newest run of this warehouse when it is still marked started but the
    `outcomes run` process that ran it has ended (killed)."""
    run = last_run(instance, settings)
    if run is None or run.status not in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING):
        return
    pid = run.tags.get(PID_TAG)
    if pid and pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
        instance.report_run_failed(run, f"the process that ran it (pid {pid}) ended")


def plan_refresh(
    settings: Settings,
    instance: DagsterInstance,
    dbt_keys: dict[str, AssetKey],
    other_keys: frozenset[AssetKey],
    downstream: Callable[[set[AssetKey]], set[AssetKey]] = lambda keys: keys,
) -> RefreshPlan:
    """The assets a daily refresh of ``settings`` builds. ``dbt_keys``: the dbt assets by
    unique id; ``other_keys``: the assets after dbt that every run builds (publish);
    ``downstream``: the assets below a set of assets in the Dagster graph (the renewal model
    between dbt's models, and the marts over its tables, which dbt's graph does not link)."""
    state = settings.dbt_state / "manifest.json"
    if not settings.warehouse.exists():
        return RefreshPlan(None, ["no warehouse yet: everything"])
    if not state.exists():
        return RefreshPlan(None, [f"no record of a successful build in {state.parent}: everything"])
    previous = last_run(instance, settings)
    failed = previous is not None and previous.status != DagsterRunStatus.SUCCESS
    # A run of every asset records no selection (an empty one).
    if failed and not previous.asset_selection:
        return RefreshPlan(
            None, [f"the last run ({previous.run_id[:8]}) built everything and did not succeed"]
        )
    pending = pending_files(settings.warehouse, settings.landing)
    selectors = [f"source:{TABLES[t].system}.{t}+" for t in sorted(pending)]
    selectors += ["tag:as_of+", "state:modified+"]
    select = " ".join(selectors)
    try:
        ids = dbt_ls(settings, select, state=Path(state.parent))
    except RuntimeError as exc:  # the build will say why; meanwhile nothing is left out
        return RefreshPlan(None, [f"dbt ls failed ({str(exc).splitlines()[0]}): everything"])
    keys = {landing_key(t) for t in pending} | {dbt_keys[i] for i in ids if i in dbt_keys}
    keys = set(downstream(keys)) | other_keys
    reasons = [
        f"landing files of {', '.join(sorted(pending))}" if pending else "no new landing files",
        f"dbt selects {len(ids)} models and seeds ({select})",
    ]
    if failed:
        keys |= set(previous.asset_selection or ())
        reasons.append(
            f"with the assets of the last run ({previous.run_id[:8]}, "
            f"{previous.status.value.lower()})"
        )
    return RefreshPlan(frozenset(keys), reasons)
