"""Great Expectations (GX 1.x) suites for the raw contract and the marts, built from code.

The suites are generated from ``contract.py`` (one per raw table) and from ``MART_RULES`` (one
per key mart), and kept in the file project ``great_expectations/`` with their validation
definitions and checkpoints; ``outcomes gx-init`` rewrites what the code changed and a test
checks they are current. Landing files are validated as pandas frames of text, with a
``<col>__parsed`` column per typed column for ranges and cross-field rules; the DuckDB marts
through a read-only connection, as pandas frames (GX's SQL datasource does not work on DuckDB).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import PROJECT_DIR
from .contract import TABLES, Table

GX_DIR = PROJECT_DIR / "great_expectations"
# Data Docs render the newest this many validation results (each load stores one per file, and
# rendering every result ever stored made each load's docs build longer than the last: 10.1 s
# at 396 results, 5.2 s with this limit).
DOCS_VALIDATION_RESULTS = 60
ROW = "__row"

# Text forms the contract allows (a value must also parse: the loader checks that too).
# Written with \s and \d for reading, then spelled as ASCII classes: pandas runs a regex on
# its Arrow strings in RE2 (vectorized) unless the pattern has \s, or \d on non-ASCII text,
# where it falls back to Python's re value by value (a third of the suites' time on the
# events). The ASCII classes are also what the loader's parse accepts (digits 0-9; DuckDB
# does not read other scripts' digits as numbers).
_ASCII = {r"\s": r"[ \t\n\r\f\v]", r"\d": "[0-9]"}
_WRITTEN = {
    "integer": r"^\s*[+-]?\d+\s*$",
    "decimal": r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$",
    "date": r"^\s*\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\s*$",
    "timestamp": (
        r"^\s*\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d"
        r"(:[0-5]\d(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?\s*$"
    ),
    "boolean": r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\s*$",
}
PATTERNS = {
    name: pattern.replace(r"\s", _ASCII[r"\s"]).replace(r"\d", _ASCII[r"\d"])
    for name, pattern in _WRITTEN.items()
}

# Cross-field rules: (name, column A, column B, or_equal) meaning A >= B (or A > B).
PAIR_RULES = {
    "accounts": [("updated_at_not_before_created_at", "updated_at", "created_at", True)],
    "users": [("deactivated_at_not_before_created_at", "deactivated_at", "created_at", True)],
    "contracts": [("end_date_not_before_start_date", "end_date", "start_date", True)],
    "customer_goals": [("target_date_after_baseline_date", "target_date", "baseline_date", False)],
    "cs_activities": [("closed_at_not_before_opened_at", "closed_at", "opened_at", True)],
    "usage_events": [
        (
            "occurred_at_at_most_1_day_after_received_at",
            "received_at_plus_1_day",
            "occurred_at",
            True,
        )
    ],
}

# Columns required only when another column has a value: (table, column) -> (condition
# column, value).
REQUIRED_WHEN = {
    ("usage_events", "feature_key"): ("event_name", "feature_used"),
    ("usage_daily", "feature_key"): ("event_name", "feature_used"),
    ("customer_goals", "product_metric"): ("kpi_source", "product"),
}

# Mart promises: (mart, key columns, {column: (min, max)}).
MART_RULES = {
    "fct_customer_metrics_monthly": (
        ["month_start", "segment"],
        {
            "nps": (-100, 100),
            "csat_pct": (0, 100),
            "csat_mean": (1, 5),
            "logo_churn_rate": (0, 1),
            "logo_retention_rate": (0, 1),
            "grr": (0, 1),
            "grr_ttm": (0, 1),
            "nrr": (0, None),
        },
    ),
    "fct_renewals": (["contract_id"], {"expiring_arr": (0, None), "renewed_arr": (0, None)}),
    "dim_accounts": (["account_id"], {"current_arr": (0, None)}),
    "fct_account_health": (["account_id", "week_start"], {"health_score": (0, 100)}),
    "fct_goal_attainment": (["goal_id"], {"attainment_pct": (0, 100)}),
    "fct_success_gaps": (
        ["account_id"],
        {"vendor_view_score": (0, 100), "customer_view_score": (0, 100)},
    ),
    "fct_renewal_predictions": (["contract_id"], {"renewal_probability": (0, 1)}),
    "fct_play_effectiveness": (["play_key", "segment", "outcome"], {"n_matched": (0, None)}),
    "fct_csm_worklist": (
        ["account_id"],
        {"renewal_probability": (0, 1), "risk": (0, 1), "urgency": (0, 1)},
    ),
    "fct_renewal_signal_evaluation": (["signal"], {"roc_auc": (0, 1), "brier_score": (0, 1)}),
    "fct_renewal_signal_lead_time": (
        ["signal", "lead_days"],
        {"roc_auc": (0, 1), "brier_score": (0, 1)},
    ),
}


@dataclass(frozen=True)
class Violation:
    row: int
    rule: str
    column: str


def _prepare_gx() -> None:
    """Before GX runs here: no analytics, errors only in the log."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def raw_expectations(table: Table) -> list:
    from great_expectations.expectations.row_conditions import Column

    import great_expectations.expectations as gxe

    required = [c.name for c in table.columns if c.required]
    out = [gxe.ExpectTableColumnsToMatchSet(column_set=required, exact_match=False)]
    for col in table.columns:
        if col.required:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name))
        if col.type in PATTERNS:
            out.append(
                gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=PATTERNS[col.type])
            )
        if col.accepted:
            out.append(
                gxe.ExpectColumnValuesToBeInSet(column=col.name, value_set=list(col.accepted))
            )
        if col.min is not None or col.max is not None:
            out.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f"{col.name}__parsed", min_value=col.min, max_value=col.max
                )
            )
    for _name, a, b, or_equal in PAIR_RULES.get(table.name, []):
        out.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=f"{a}__parsed",
                column_B=f"{b}__parsed",
                or_equal=or_equal,
                ignore_row_if="either_value_is_missing",
            )
        )
    if table.name == "customer_goals":
        out.append(
            gxe.ExpectColumnValuesToNotBeInSet(
                column="target_minus_baseline__parsed", value_set=[0]
            )
        )
        out.append(
            gxe.ExpectColumnValuesToBeBetween(column="weight__parsed", min_value=0, strict_min=True)
        )
    for (table_name, column), (when, value) in REQUIRED_WHEN.items():
        if table.name == table_name:
            out.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=column, row_condition=Column(when) == value
                )
            )
    return out


def mart_expectations(mart: str) -> list:
    import great_expectations.expectations as gxe

    keys, ranges = MART_RULES[mart]
    out = []
    if len(keys) == 1:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=keys[0]))
    else:
        out.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=keys))
    for key in keys:
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=key))
    for column, (lo, hi) in ranges.items():
        out.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=lo, max_value=hi))
    return out


_CONTEXT = {}


def context(root: Path = GX_DIR):
    """The GX file project as committed (suites, validation definitions, checkpoints), loaded
    once per process; initialized from code when it is missing."""
    if root not in _CONTEXT:
        _prepare_gx()
        import great_expectations as gx

        ctx = gx.get_context(mode="file", context_root_dir=str(root))
        try:
            ctx.checkpoints.get("raw_accounts")
        except Exception:
            ctx = init_project(root)
        _CONTEXT[root] = ctx
    return _CONTEXT[root]


def init_project(root: Path = GX_DIR):
    """Write every suite, validation definition and checkpoint from code (``outcomes gx-init``)."""
    _prepare_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import great_expectations as gx

    ctx = gx.get_context(mode="file", context_root_dir=str(root))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    sites = dict(ctx.variables.data_docs_sites or {})
    for site in sites.values():
        site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
        site["site_index_builder"]["validation_results_limit"] = DOCS_VALIDATION_RESULTS
    ctx.variables.data_docs_sites = sites
    ctx.variables.save()
    # What exists and is unchanged is kept as it is: GX gives every object it writes a new id,
    # and a rewrite of the same rules would change every file of the project.
    sources = {s.name: s for s in ctx.data_sources.all().values()}
    landing = sources.get("landing") or ctx.data_sources.add_pandas("landing")
    marts = sources.get("warehouse_marts") or ctx.data_sources.add_pandas("warehouse_marts")
    specs = [(f"raw_{t}", landing, t, raw_expectations(TABLES[t])) for t in TABLES]
    specs += [(f"mart_{m}", marts, m, mart_expectations(m)) for m in MART_RULES]
    for name, source, asset_name, expectations in specs:
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(asset_name)
        try:
            batch = asset.get_batch_definition("whole_file")
        except (KeyError, LookupError, ValueError):
            batch = asset.add_batch_definition_whole_dataframe("whole_file")
        suite = _kept(ctx.suites, gx.ExpectationSuite(name=name, expectations=expectations))
        definition = _kept(
            ctx.validation_definitions, gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        checkpoint = gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]},
        )
        _kept(ctx.checkpoints, checkpoint)
    return ctx


def _kept(store, new):
    """``new`` saved in the GX store, unless the store has one of that name alike but for
    the ids GX gives every object it saves: then that one, untouched."""
    from great_expectations.exceptions import DataContextError

    try:
        old = store.get(new.name)
    except DataContextError:  # no such name
        return store.add(new)
    if _without_ids(_as_dict(old)) == _without_ids(_as_dict(new)):
        return old
    return store.add_or_update(new)


def _as_dict(obj) -> dict:
    return obj.to_json_dict() if hasattr(obj, "to_json_dict") else obj.dict()


def _without_ids(value):
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def parsed_frame(table: Table, text: pd.DataFrame) -> pd.DataFrame:
    """The text frame plus a parsed column per typed column and the cross-field helpers."""
    frame = text.copy()
    for col in table.columns:
        if col.name not in frame or col.type not in PATTERNS or col.type == "boolean":
            continue
        values = frame[col.name].where(frame[col.name].str.match(PATTERNS[col.type], na=False))
        if col.type in ("integer", "decimal"):
            frame[f"{col.name}__parsed"] = pd.to_numeric(values, errors="coerce")
        else:
            frame[f"{col.name}__parsed"] = pd.to_datetime(
                values.str.strip(), errors="coerce", utc=True, format="ISO8601"
            )
    if table.name == "customer_goals":
        frame["target_minus_baseline__parsed"] = (
            frame["target_value__parsed"] - frame["baseline_value__parsed"]
        )
    if table.name == "usage_events":
        frame["received_at_plus_1_day__parsed"] = frame["received_at__parsed"] + pd.Timedelta(
            days=1
        )
    for col in table.columns:  # a missing optional column validates as null
        if col.name not in frame:
            frame[col.name] = None
            if col.type in PATTERNS and col.type != "boolean":
                frame[f"{col.name}__parsed"] = pd.NaT if col.type in ("date", "timestamp") else None
    return frame


def _rule_name(config) -> tuple[str, str]:
    kwargs = config.kwargs
    kind = config.type.removeprefix("expect_")
    column = (
        kwargs.get("column") or kwargs.get("column_A") or ",".join(kwargs.get("column_list", []))
    )
    column = column.removesuffix("__parsed")
    if config.type == "expect_column_values_to_be_between":
        lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
        low = "" if lo is None else f"{lo:g}"
        high = "" if hi is None else f"{hi:g}"
        kind = (
            f"range: {low} to {high}"
            if lo is not None and hi is not None
            else (
                f"range: {'above' if kwargs.get('strict_min') else 'at least'} {low}"
                if lo is not None
                else f"range: at most {high}"
            )
        )
    elif config.type == "expect_column_pair_values_a_to_be_greater_than_b":
        b = kwargs["column_B"].removesuffix("__parsed")
        kind = f"{column} {'>=' if kwargs.get('or_equal') else '>'} {b}"
        if column == "received_at_plus_1_day":
            kind, column = "occurred_at at most 1 day after received_at", "occurred_at"
    elif config.type == "expect_column_values_to_match_regex":
        type_name = next((t for t, rx in PATTERNS.items() if rx == kwargs.get("regex")), "value")
        kind = f"type: not a valid {type_name}"
    elif config.type == "expect_column_values_to_be_in_set":
        kind = "accepted values"
    elif config.type == "expect_column_values_to_not_be_in_set":
        kind = "target_value <> baseline_value" if column == "target_minus_baseline" else kind
        column = "target_value" if column == "target_minus_baseline" else column
    elif config.type == "expect_column_values_to_not_be_null":
        # (the condition of a column is the same in every table that has one)
        conditions = [cond for (_, name), cond in REQUIRED_WHEN.items() if name == column]
        condition = conditions[0] if conditions and kwargs.get("row_condition") else None
        kind = "not null" + (f" when {condition[0]} = {condition[1]}" if condition else "")
    return kind, column


def run_checkpoint(ctx, name: str, frame: pd.DataFrame) -> tuple[list[Violation], list[str], str]:
    """Validate a frame (with a ``__row`` column); returns row violations, table-level
    failures and the Data Docs index."""
    checkpoint = ctx.checkpoints.get(name)
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    violations: list[Violation] = []
    table_level: list[str] = []
    for run in result.run_results.values():
        for item in run.results:
            if item.success:
                continue
            kind, column = _rule_name(item.expectation_config)
            rows = item.result.get("unexpected_index_list") or []
            if item.exception_info.get("raised_exception"):
                table_level.append(
                    f"{kind} on {column}: {item.exception_info.get('exception_message')}"
                )
            elif rows:
                violations += [Violation(int(r[ROW]), kind, column) for r in rows]
            else:
                table_level.append(f"{kind} {column}".strip())
    urls = ctx.get_docs_sites_urls()
    return violations, table_level, urls[0]["site_url"] if urls else ""


def validate_frame(table: Table, frame: pd.DataFrame) -> list[Violation]:
    """Run the table's suite on a landing file's rows (text, with ``__row``)."""
    if frame.empty:
        return []
    violations, table_level, _ = run_checkpoint(
        context(), f"raw_{table.name}", parsed_frame(table, frame)
    )
    if table_level:
        # Table-level failures (missing columns) are rejected by the loader before this runs.
        raise RuntimeError(f"{table.name}: table-level expectation failed: {table_level}")
    return violations


def build_docs(root: Path = GX_DIR) -> str:
    """Build the Data Docs (HTML) from the validation results stored so far; returns the
    index page. Checkpoints store results; the docs are built once per load or validation
    run instead of after every file."""
    ctx = context(root)
    ctx.build_data_docs()
    urls = ctx.get_docs_sites_urls()
    return urls[0]["site_url"] if urls else ""


def validate_marts(con) -> dict[str, list[str]]:
    """Run the mart suites on the built marts (a DuckDB connection, read-only); returns the
    failures per mart (empty lists when every promise holds)."""
    failures: dict[str, list[str]] = {}
    existing = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    for mart in MART_RULES:
        if mart not in existing:
            continue
        keys, ranges = MART_RULES[mart]
        columns = ", ".join([*keys, *ranges])  # what the suite reads: less to convert
        frame = con.execute(f"select {columns} from marts.{mart}").df()
        for column in ranges:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        frame.insert(0, ROW, range(len(frame)))
        violations, table_level, _ = run_checkpoint(context(), f"mart_{mart}", frame)
        found = sorted({f"{v.column}: {v.rule}" for v in violations}) + table_level
        failures[mart] = found
    return failures


def validate_marts_sql(connection_string: str, schema: str = "marts") -> dict[str, list[str]]:
    """The same mart suites through GX's SQL datasource, for warehouses GX reads with SQL
    (Postgres). GX's SQL datasource fails on DuckDB, which is why ``validate_marts`` reads
    DuckDB marts into pandas. Runs in an ephemeral context: the file project is not touched."""
    _prepare_gx()
    import sqlalchemy as sa

    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    source = ctx.data_sources.add_postgres("warehouse_sql", connection_string=connection_string)
    existing = set(sa.inspect(sa.create_engine(connection_string)).get_table_names(schema))
    failures: dict[str, list[str]] = {}
    for mart in MART_RULES:
        if mart not in existing:
            continue
        asset = source.add_table_asset(mart, table_name=mart, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
        suite = gx.ExpectationSuite(name=f"mart_{mart}", expectations=mart_expectations(mart))
        result = batch.validate(suite)
        found = []
        for item in result.results:
            if not item.success:
                kind, column = _rule_name(item.expectation_config)
                error = item.exception_info.get("exception_message") if item.exception_info else ""
                found.append(f"{column}: {kind}" + (f" ({error})" if error else ""))
        failures[mart] = sorted(found)
    return failures
