"""Assets: landing tables (ingest + contract checks), the dbt project, the serve database."""

import os
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    Config,
    Failure,
    MaterializeResult,
    Output,
    RetryPolicy,
    RetryRequested,
    asset,
    multi_asset,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from ..changes import ChangePlan, begin_build, end_build, plan_changes
from ..contract import TABLES
from ..dbt import as_of_env, dbt_env, scoped_env
from ..load import describe, load_landing, take_started_load
from ..publish import MartsBreakPromises, audit_and_publish
from ..spill import out_of_memory_only, plan_build, resource_failure_hint
from .resources import OutcomesSettings, manifest_path

RETRY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL)

# A dbt build that ran out of memory (not of spill disk) runs once more, as `outcomes build`
# does (dbt.run_dbt), after this pause: the step again, as a new attempt, since dbt's outputs
# of the failed attempt are already reported. The failed build is recorded as failed, so the
# attempt builds every node (changes.py).
OUT_OF_MEMORY_RETRY_SECONDS = 30


def landing_key(table: str) -> AssetKey:
    """The key dbt gives the table's source, so lineage runs from ingest into dbt."""
    return AssetKey([TABLES[table].system, table])


@multi_asset(
    name="landing_tables",
    specs=[
        AssetSpec(landing_key(t), group_name="ingest", description=TABLES[t].description)
        for t in TABLES
    ],
    check_specs=[
        AssetCheckSpec(
            "raw_contract",
            asset=landing_key(t),
            blocking=True,
            description="Great Expectations suite of the raw contract: no landing file rejected.",
        )
        for t in TABLES
    ],
    retry_policy=RETRY,
)
def landing_tables(context: AssetExecutionContext, outcomes: OutcomesSettings) -> Iterator:
    """Validate every new landing file against the contract and load it into raw."""
    settings = outcomes.settings()
    # `outcomes run` starts this load while the job gets ready (load.start_load).
    results = take_started_load(settings.warehouse, settings.landing, context.log.info)
    if results is None:
        results = load_landing(settings.warehouse, settings.landing, progress=context.log.info)
    for table in TABLES:
        mine = [r for r in results if r.table == table]
        rejected = [r.message for r in mine if r.status == "rejected"]
        yield MaterializeResult(
            asset_key=landing_key(table),
            metadata={
                "files_loaded": sum(r.status == "loaded" for r in mine),
                "rows_loaded": sum(r.rows_loaded for r in mine),
                "rows_quarantined": sum(r.rows_quarantined for r in mine),
            },
        )
        yield AssetCheckResult(
            asset_key=landing_key(table),
            check_name="raw_contract",
            passed=not rejected,
            metadata={
                "rejected_files": "\n".join(rejected) or "none",
                "report": "\n".join(describe(r) for r in mine) or "no new files",
            },
        )


class DbtTranslator(DagsterDbtTranslator):
    """dbt models grouped by their folder: staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


class DbtBuildConfig(Config):
    full_refresh: bool = False
    # Build every node, not only what changed since the last build (changes.py).
    all_nodes: bool = False


@dbt_assets(manifest=manifest_path(), dagster_dbt_translator=DbtTranslator())
def dbt_models(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    outcomes: OutcomesSettings,
    config: DbtBuildConfig,
):
    """`dbt build`: every model, data test (as asset checks) and the renewal model."""
    settings = outcomes.settings()
    # The warehouse and spill paths the CLI's builds and the background parse use (dbt_env):
    # dbt reuses a parse only when the profile renders the same.
    env = dbt_env(settings)
    for name in ("OUTCOMES_WAREHOUSE", "OUTCOMES_TEMP_DIR"):
        os.environ[name] = env[name]
    args = ["build"]
    if config.full_refresh:
        args.append("--full-refresh")
    # Production runs skip the unit tests: their inputs are fixed, so they run in CI
    # (`make test`) and in `outcomes build`, not again on every scheduled build.
    args += ["--exclude-resource-type", "unit_test"]
    # Only what changed since the last build, unless asked for all or for a subset of assets
    # (dagster-dbt then selects the subset).
    changes = (
        plan_changes(
            settings.warehouse, args, outcomes.as_of or None, manifest_path, config.all_nodes
        )
        if not context.is_subset
        else ChangePlan(None, None, "the selected assets")
    )
    context.log.info(f"dbt build: {changes.reason}")
    args += changes.dbt_args()
    # The nodes left out are current (their inputs did not change): said as dagster-dbt says
    # it of nodes dbt reuses, so the steps after (publish) run on them too. First, parents
    # first: no node left out is downstream of one dbt builds.
    keys = _keys_by_unique_id()
    for uid in changes.skipped:
        key = keys.get(uid)
        if key is not None and key in context.selected_asset_keys:
            yield Output(
                None,
                output_name=key.to_python_identifier(),
                metadata={"status": "reused", "reason": f"inputs unchanged: {changes.reason}"},
            )
    plan = plan_build(settings, args)
    args += plan.extra_args
    for note in plan.notes:
        (context.log.warning if note.startswith("warning") else context.log.info)(note)
    if changes.select == []:
        return
    build_id = begin_build(settings.warehouse, changes)
    # The date goes in by environment, not --vars: a changed --vars value makes dbt parse
    # the whole project again (macros/as_of_date.sql). Restored after the run, as are the
    # DuckDB threads per query of an incremental build (plan.env).
    with as_of_env(outcomes.as_of or None), scoped_env(plan.env):
        try:
            yield from dbt.cli(args, context=context).stream()
        except DagsterDbtCliRuntimeError as exc:
            end_build(settings.warehouse, changes, build_id, succeeded=False)
            lines = str(exc.description).splitlines()
            if context.retry_number == 0 and out_of_memory_only(lines):
                context.log.warning(
                    "dbt build: DuckDB ran out of memory in a query that spills; such failures "
                    "have passed when run again, so the step runs once more in "
                    f"{OUT_OF_MEMORY_RETRY_SECONDS} s"
                )
                raise RetryRequested(
                    max_retries=1, seconds_to_wait=OUT_OF_MEMORY_RETRY_SECONDS
                ) from exc
            hint = resource_failure_hint(lines, settings)
            if hint is None:
                raise
            raise Failure(description=f"{exc.description}\n\n{hint}") from exc
    end_build(settings.warehouse, changes, build_id, succeeded=True)


def _keys_by_unique_id() -> dict[str, AssetKey]:
    specs = dbt_models.specs
    return {spec.metadata[DAGSTER_DBT_UNIQUE_ID_METADATA_KEY]: spec.key for spec in specs}


def _mart_keys() -> list[AssetKey]:
    """The dbt marts (the models of the marts folder), whose build publish waits for."""
    return sorted(spec.key for spec in dbt_models.specs if spec.group_name == "marts")


@asset(
    name="serve_database",
    group_name="publish",
    deps=_mart_keys(),
    retry_policy=RETRY,
    description="The marts, audited, in the serve database BI tools read (write-audit-publish).",
)
def serve_database(context: AssetExecutionContext, outcomes: OutcomesSettings) -> MaterializeResult:
    """Check the marts' promises (GX), then publish them; a failure publishes nothing.

    Runs in this process (a subprocess cost 4 s of imports on every run). It cannot read a
    stale build database: a DuckDB handle this process kept open on the file would have
    locked dbt out of writing it, and dbt has just written it. The loader closes its
    connections and the dbt resource opens no adapter (resources.OutcomesDbtCliResource)."""
    settings = outcomes.settings()
    try:
        result = audit_and_publish(settings.warehouse, settings.serve, progress=context.log.info)
    except MartsBreakPromises as exc:
        # Not retried: the same marts break the same promises until a new build.
        raise Failure(description=f"publish failed: {exc}", allow_retries=False) from exc
    return MaterializeResult(
        metadata={"serve_file": str(settings.serve), "content_hash": result.content_hash}
    )
