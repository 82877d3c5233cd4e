"""Assets: landing tables (ingest + contract checks), the dbt project, the serve database."""

import os
import shutil
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    Config,
    Failure,
    MaterializeResult,
    RetryPolicy,
    asset,
    multi_asset,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY

from ..contract import TABLES
from ..dbt import dbt_env, scoped_env
from ..load import describe, load_landing
from ..plan import PLAN_TAG, landing_key
from ..publish import MartsBreakPromises, audit_and_publish
from ..renewal_step import SCHEMA as RENEWAL_SCHEMA
from ..renewal_step import TABLES as RENEWAL_TABLES
from ..renewal_step import engine_for, score
from .resources import OutcomesSettings, manifest_path

RETRY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL)
# dbt's step once more after a failure (DuckDB out of memory at scale has passed when run
# again); a failing model or test fails the same way again, and the run then fails.
DBT_RETRY = RetryPolicy(max_retries=1, delay=30)
# Data tests that read the whole event history: the daily refresh leaves them out, the weekly
# full refresh runs them (models/staging/product/_product__models.yml).
FULL_HISTORY_TAG = "full_history"


@multi_asset(
    name="landing_tables",
    specs=[
        AssetSpec(
            landing_key(t), group_name="ingest", description=TABLES[t].description, skippable=True
        )
        for t in TABLES
    ],
    check_specs=[
        AssetCheckSpec(
            "raw_contract",
            asset=landing_key(t),
            description="Great Expectations suite of the raw contract: no landing file rejected "
            "(a rejected file loads nothing; the rest of the run goes on).",
        )
        for t in TABLES
    ],
    can_subset=True,
    retry_policy=RETRY,
)
def landing_tables(context: AssetExecutionContext, outcomes: OutcomesSettings) -> Iterator:
    """Validate the selected tables' new landing files against the contract and load them."""
    settings = outcomes.settings()
    selected = [t for t in TABLES if landing_key(t) in context.selected_asset_keys]
    # Its warnings at WARNING: the level the instance keeps (dagster.yaml), which `outcomes run`
    # prints.
    results = load_landing(
        settings.warehouse,
        settings.landing,
        progress=context.log.info,
        tables=selected,
        warn=context.log.warning,
    )
    for table in selected:
        mine = [r for r in results if r.table == table]
        rejected = [r.message for r in mine if r.status == "rejected"]
        yield MaterializeResult(
            asset_key=landing_key(table),
            metadata={
                "files_loaded": sum(r.status == "loaded" for r in mine),
                "files_rejected": len(rejected),
                "rows_loaded": sum(r.rows_loaded for r in mine),
                "rows_quarantined": sum(r.rows_quarantined for r in mine),
            },
        )
        if landing_key(table) in {k.asset_key for k in context.selected_asset_check_keys}:
            yield AssetCheckResult(
                asset_key=landing_key(table),
                check_name="raw_contract",
                passed=not rejected,
                severity=AssetCheckSeverity.ERROR,
                metadata={
                    "rejected_files": "\n".join(rejected) or "none",
                    "report": "\n".join(describe(r) for r in mine)[:1500] or "no new files",
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
    # dbt's threads for this build; 0: the profile's (OUTCOMES_THREADS).
    threads: int = 0


def _dbt_build(
    name: str,
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    outcomes: OutcomesSettings,
    config: DbtBuildConfig,
):
    """`dbt build` of the selected models and their data tests (as asset checks), incremental
    unless the run asks for a full refresh, with its artifacts in the target folder's ``name``
    sub-folder. Unit tests run in CI."""
    settings = outcomes.settings()
    target = settings.dbt_target / name
    args = ["build", "--exclude-resource-type", "unit_test"]
    if config.full_refresh:
        args.append("--full-refresh")
    else:
        args += ["--exclude", f"tag:{FULL_HISTORY_TAG}"]
    if config.threads:
        args += ["--threads", str(config.threads)]
    # The locations and the date reach dbt by environment (dagster-dbt starts dbt with a copy
    # of this process's): a date passed as --vars would make dbt parse the whole project again.
    with scoped_env(dbt_env(settings, outcomes.as_of or None)):
        invocation = dbt.cli(args, context=context, target_path=target)
        yield from invocation.stream()
    # The state the next daily refresh compares the project with (plan.py, state:modified+),
    # written aside, then moved into place.
    if records_state(context.run):
        settings.dbt_state.mkdir(parents=True, exist_ok=True)
        state = settings.dbt_state / "manifest.json"
        shutil.copy(target / "manifest.json", state.with_suffix(".json.tmp"))
        os.replace(state.with_suffix(".json.tmp"), state)


def records_state(run) -> bool:
    """Whether a run's dbt steps record the state the next plan compares with: a run of the
    plan's selection or of every asset. A partial run from the UI (Materialize) may not have
    built every model changed since."""
    return PLAN_TAG in run.tags or not run.asset_selection


# The dbt project in two asset definitions around the renewal model (selectors.yml): the
# models before it, and the marts over the tables it writes. One definition would make a cycle
# through the model, which Dagster resolves by splitting the dbt steps by graph position, so
# a data test on two models could run in a step that has rebuilt only one of them.
RENEWAL_MARTS_SELECT = "source:renewal_model+"


def _dbt_definition(name: str, **selection: str):
    @dbt_assets(
        manifest=manifest_path(),
        dagster_dbt_translator=DbtTranslator(),
        retry_policy=DBT_RETRY,
        name=name,
        **selection,
    )
    def definition(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        outcomes: OutcomesSettings,
        config: DbtBuildConfig,
    ):
        yield from _dbt_build(name, context, dbt, outcomes, config)

    return definition


# Every model, seed and data test but the renewal marts; then the renewal marts.
dbt_models = _dbt_definition("dbt_models", exclude=RENEWAL_MARTS_SELECT)
renewal_marts = _dbt_definition("renewal_marts", select=RENEWAL_MARTS_SELECT)
DBT_ASSETS = (dbt_models, renewal_marts)


def dbt_keys_by_unique_id() -> dict[str, AssetKey]:
    return {
        spec.metadata[DAGSTER_DBT_UNIQUE_ID_METADATA_KEY]: spec.key
        for assets in DBT_ASSETS
        for spec in assets.specs
    }


RENEWAL_INPUTS = ("int_renewal_features", "int_renewal_model_settings")


def _renewal_inputs() -> list[AssetKey]:
    return [
        spec.key
        for spec in dbt_models.specs
        if spec.metadata[DAGSTER_DBT_UNIQUE_ID_METADATA_KEY].split(".")[-1] in RENEWAL_INPUTS
    ]


@multi_asset(
    name="renewal_model",
    specs=[
        AssetSpec(
            AssetKey([RENEWAL_SCHEMA, table]),
            group_name="renewal_model",
            deps=_renewal_inputs(),
            description=f"The renewal model's {table} (customer_outcomes.renewal_step).",
        )
        for table in RENEWAL_TABLES
    ],
    retry_policy=RETRY,
)
def renewal_model(context: AssetExecutionContext, outcomes: OutcomesSettings) -> Iterator:
    """Train on the closed renewals (or reuse the week's training) and score the pending ones,
    reading int_renewal_features through the warehouse's connection; the renewal marts (dbt)
    select from the tables this writes."""
    settings = outcomes.settings()
    target = os.environ.get("OUTCOMES_TARGET", "duckdb")
    with scoped_env(dbt_env(settings)), engine_for(target, settings.warehouse) as engine:
        scored = score(engine)
    context.log.info(f"renewal model: {scored.model_status} ({scored.model_version})")
    for table, rows in scored.rows.items():
        yield MaterializeResult(
            asset_key=AssetKey([RENEWAL_SCHEMA, table]),
            metadata={
                "rows": rows,
                "model_status": scored.model_status,
                "model_version": scored.model_version,
            },
        )


def _mart_keys() -> list[AssetKey]:
    """The dbt marts (the models of the marts folder), whose build publish waits for."""
    return sorted(
        spec.key for assets in DBT_ASSETS for spec in assets.specs if spec.group_name == "marts"
    )


@asset(
    name="serve_database",
    group_name="publish",
    deps=_mart_keys(),
    retry_policy=RETRY,
    description="The marts, audited, in the serve database BI tools read (write-audit-publish).",
)
def serve_database(context: AssetExecutionContext, outcomes: OutcomesSettings) -> MaterializeResult:
    """Check the marts' promises (GX), then publish them; a failure publishes nothing."""
    settings = outcomes.settings()
    try:
        result = audit_and_publish(settings.warehouse, settings.serve, progress=context.log.info)
    except MartsBreakPromises as exc:
        # Not retried: the same marts break the same promises until a new build.
        raise Failure(description=f"publish failed: {exc}", allow_retries=False) from exc
    return MaterializeResult(
        metadata={"serve_file": str(settings.serve), "content_hash": result.content_hash}
    )
