"""The semantic layer (MetricFlow) and the documentation site on the demo warehouse.

Metric queries are planned by MetricFlow from the semantic manifest the test run's ``dbt build``
wrote, run read-only on the built warehouse, and compared with the marts' own values: the
semantic layer must say what the marts say. One query goes through the ``mf`` CLI as the README
shows it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from customer_outcomes.config import PROJECT_DIR, Settings
from customer_outcomes.dbt import dbt_env, dbt_executable

pytestmark = pytest.mark.slow


class _ExplainOnlyDuckDbClient:
    """The SQL client MetricFlow plans with; the tests run its SQL themselves, read-only."""

    def __init__(self) -> None:
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self.sql_engine_type = SqlEngine.DUCKDB
        self.sql_plan_renderer = DuckDbSqlPlanRenderer()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"

    def close(self) -> None:
        pass


class SemanticLayer:
    def __init__(self, semantic_manifest: Path, warehouse: Path) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = parse_manifest_from_dbt_generated_manifest(semantic_manifest.read_text())
        self.engine = MetricFlowEngine(SemanticManifestLookup(manifest), _ExplainOnlyDuckDbClient())
        self.warehouse = warehouse

    def sql(self, metrics: list[str], group_by: list[str] = (), where: list[str] = ()) -> str:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            metric_names=metrics,
            group_by_names=list(group_by),
            where_constraints=list(where) or None,
        )
        return self.engine.explain(request).sql_statement.sql

    def query(self, metrics: list[str], group_by: list[str] = (), where: list[str] = ()):
        sql = self.sql(metrics, group_by, where)
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).df()
        finally:
            con.close()


@pytest.fixture(scope="module")
def semantic(built) -> SemanticLayer:
    from conftest import BUILT_TARGET

    return SemanticLayer(BUILT_TARGET[0] / "semantic_manifest.json", built.warehouse)


def _marts(built, sql: str, params=()) -> pd.DataFrame:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        frame = con.execute(sql, list(params)).df()
    finally:
        con.close()
    if "month_start" in frame:  # the same index type as the semantic layer's metric_time
        frame["month_start"] = pd.to_datetime(frame["month_start"])
    return frame


def _by_month(frame: pd.DataFrame, column: str = "metric_time__month") -> pd.DataFrame:
    frame = frame.copy()
    frame["month_start"] = pd.to_datetime(frame.pop(column))
    return frame.set_index("month_start").sort_index()


def _assert_close(left: pd.Series, right: pd.Series, what: str) -> None:
    joined = pd.concat([left.rename("semantic"), right.rename("mart")], axis=1, join="outer")
    joined = joined.astype(float)
    both_null = joined["semantic"].isna() & joined["mart"].isna()
    close = (joined["semantic"] - joined["mart"]).abs() <= 1e-6 * joined["mart"].abs().clip(lower=1)
    bad = joined[~(both_null | close)]
    assert bad.empty, f"{what}: semantic layer and mart disagree on\n{bad.head(10)}"


def test_the_semantic_manifest_has_the_metrics_and_the_time_spine(built):
    from conftest import BUILT_TARGET

    manifest = json.loads((BUILT_TARGET[0] / "semantic_manifest.json").read_text())
    metrics = {m["name"] for m in manifest["metrics"]}
    assert {
        "nps",
        "csat_pct",
        "logo_churn_rate",
        "grr",
        "nrr",
        "arr",
        "goal_attainment_rate",
        "goal_mean_attainment",
        "usage_trap_share",
        "at_risk_share",
        "healthy_share",
        "quiet_success_share",
        "no_goals_share",
        "renewal_probability",
        "arr_at_risk",
    } <= metrics
    spines = manifest["project_configuration"]["time_spines"]
    assert [s["node_relation"]["alias"] for s in spines] == ["metricflow_time_spine"]
    for metric in manifest["metrics"]:
        if metric["type"] == "ratio":  # a ratio's parts are metrics, not measures
            for part in ("numerator", "denominator"):
                assert metric["type_params"][part]["name"] in metrics, metric["name"]


def test_the_time_spine_is_a_gapless_day_series(built):
    spine = _marts(
        built,
        """select count(*) as n, count(distinct date_day) as d, min(date_day) as lo,
            max(date_day) as hi from semantic.metricflow_time_spine""",
    ).iloc[0]
    assert spine["n"] == spine["d"] == 10_000
    assert (pd.Timestamp(spine["hi"]) - pd.Timestamp(spine["lo"])).days == 9_999


def test_monthly_metrics_equal_the_monthly_mart(built, semantic):
    metrics = ["nps", "csat_pct", "csat_mean", "grr", "nrr", "logo_churn_rate", "arr"]
    got = _by_month(semantic.query(metrics, ["metric_time__month"]))
    mart = _marts(
        built,
        """select month_start, nps, csat_pct, csat_mean, grr, nrr, logo_churn_rate,
            ending_arr as arr, nps_responses, csat_responses, starting_arr
        from marts.fct_customer_metrics_monthly where segment = 'all'""",
    ).set_index("month_start")
    assert mart["nps"].notna().sum() >= 2  # the comparison covers real survey months
    for metric in metrics:
        expected = mart[metric]
        if metric in ("nps",):
            expected = expected[mart["nps_responses"] > 0]
        elif metric.startswith("csat"):
            expected = expected[mart["csat_responses"] > 0]
        elif metric in ("grr", "nrr", "logo_churn_rate"):
            expected = expected[mart["starting_arr"] > 0]
        else:
            expected = expected[expected > 0]
        _assert_close(got[metric].dropna(), expected.dropna(), metric)


def test_metrics_by_segment_equal_the_monthly_mart(built, semantic):
    got = semantic.query(["nps", "grr"], ["metric_time__month", "account__segment"])
    got = _by_month(got).set_index("account__segment", append=True)
    mart = _marts(
        built,
        """select month_start, segment as account__segment, nps, grr
        from marts.fct_customer_metrics_monthly where segment <> 'all'""",
    ).set_index(["month_start", "account__segment"])
    _assert_close(got["nps"].dropna(), mart["nps"].dropna(), "nps by segment")
    _assert_close(got["grr"].dropna(), mart["grr"].dropna(), "grr by segment")


def test_success_gap_counts_and_shares_equal_fct_success_gaps(built, semantic):
    shares = [f"{t}_share" for t in ("usage_trap", "at_risk", "healthy", "quiet_success")]
    got = semantic.query(["customers", "usage_trap_accounts", *shares, "no_goals_share"]).iloc[0]
    counts = _marts(
        built, "select gap_type, count(*) as n from marts.fct_success_gaps group by gap_type"
    ).set_index("gap_type")["n"]
    total = counts.sum()
    assert got["customers"] == total
    assert got["usage_trap_accounts"] == counts.get("usage_trap", 0) > 0
    for gap_type in ("usage_trap", "at_risk", "healthy", "quiet_success", "no_goals"):
        assert math.isclose(got[f"{gap_type}_share"], counts.get(gap_type, 0) / total)

    by_type = semantic.query(["customers", "success_gap_arr"], ["customer__gap_type"])
    arr = _marts(
        built, "select gap_type, sum(arr) as arr from marts.fct_success_gaps group by gap_type"
    ).set_index("gap_type")["arr"]
    by_type = by_type.set_index("customer__gap_type")
    assert by_type["customers"].to_dict() == counts.to_dict()
    _assert_close(by_type["success_gap_arr"], arr, "ARR by gap type")


def test_goal_attainment_and_renewal_metrics_equal_the_marts(built, semantic):
    got = semantic.query(["goal_attainment_rate", "goal_mean_attainment"]).iloc[0]
    goals = _marts(
        built,
        """select avg(case when attainment_status = 'achieved' then 1.0 else 0.0 end) as rate,
            avg(attainment_pct) / 100 as mean_attainment
        from marts.fct_goal_attainment
        where attainment_status <> 'unknown' and goal_status <> 'abandoned'""",
    ).iloc[0]
    assert math.isclose(got["goal_attainment_rate"], goals["rate"])
    assert math.isclose(got["goal_mean_attainment"], goals["mean_attainment"])

    renewals = _by_month(
        semantic.query(["renewal_probability", "arr_at_risk"], ["metric_time__quarter"]).rename(
            columns={"metric_time__quarter": "metric_time__month"}
        )
    )
    mart = _marts(
        built,
        """select cast(date_trunc('quarter', renewal_date) as date) as month_start,
            avg(renewal_probability) as renewal_probability, sum(arr_at_risk) as arr_at_risk
        from marts.fct_renewal_predictions group by 1""",
    ).set_index("month_start")
    assert not mart.empty
    _assert_close(renewals["renewal_probability"], mart["renewal_probability"], "probability")
    _assert_close(renewals["arr_at_risk"], mart["arr_at_risk"], "ARR at risk")


def test_signal_lead_time_metrics_equal_the_mart(built, semantic):
    got = semantic.query(
        ["signal_roc_auc", "signal_renewals_evaluated"],
        ["signal_lead__signal", "signal_lead__lead_days"],
    ).set_index(["signal_lead__signal", "signal_lead__lead_days"])
    mart = _marts(
        built,
        """select signal, lead_days, roc_auc, n_with_signal
        from marts.fct_renewal_signal_lead_time""",
    ).set_index(["signal", "lead_days"])
    assert len(mart) == len(got) == 24
    got.index.names = mart.index.names
    _assert_close(got["signal_roc_auc"], mart["roc_auc"], "signal ROC AUC")
    _assert_close(got["signal_renewals_evaluated"], mart["n_with_signal"], "renewals evaluated")


def test_worklist_metrics_equal_the_mart(built, semantic):
    got = semantic.query(
        ["worklist_accounts", "worklist_arr"], ["worklist_item__status", "account__segment"]
    ).set_index(["worklist_item__status", "account__segment"])
    mart = _marts(
        built,
        """select status, segment, count(*) as n, sum(arr) as arr
        from marts.fct_csm_worklist group by all""",
    ).set_index(["status", "segment"])
    assert len(mart) > 1
    got.index.names = mart.index.names
    _assert_close(got["worklist_accounts"], mart["n"], "worklist accounts")
    _assert_close(got["worklist_arr"], mart["arr"], "worklist ARR")


def test_the_mf_cli_answers_like_the_readme_says(built, tmp_path):
    """`mf query` in the project's folder, as the README has it: it reads
    target/semantic_manifest.json, which the definitions' `dbt parse` writes."""
    from customer_outcomes.dbt import current_manifest

    assert current_manifest().with_name("semantic_manifest.json").exists()
    # mf opens the warehouse as dbt does, for writing: a copy, as other tests read the original.
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    env = os.environ | dbt_env(Settings(built.landing, copy, built.serve))
    env.pop("DBT_TARGET_PATH", None)
    env["DBT_LOG_PATH"] = str(tmp_path / "logs")
    out = tmp_path / "usage_traps.csv"
    mf = Path(sys.executable).parent / "mf"
    result = subprocess.run(
        [str(mf), "query", "--metrics", "usage_trap_accounts,customers", "--csv", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    got = pd.read_csv(out).iloc[0]
    mart = _marts(
        built,
        """select count(*) filter (where gap_type = 'usage_trap') as traps, count(*) as n
        from marts.fct_success_gaps""",
    ).iloc[0]
    assert (got["usage_trap_accounts"], got["customers"]) == (mart["traps"], mart["n"])


def test_docs_generate_builds_the_site_with_lineage_exposure_and_columns(built, tmp_path):
    from conftest import BUILT_TARGET

    # `make docs` compiles too; here the shared test build's compiled manifest stands in.
    target = tmp_path / "docs"
    target.mkdir()
    shutil.copy(BUILT_TARGET[0] / "manifest.json", target / "manifest.json")
    # dbt opens the warehouse for writing to read its catalog: a copy (other tests read it).
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, copy)
    env = os.environ | dbt_env(Settings(built.landing, copy, built.serve))
    env["DBT_LOG_PATH"] = str(tmp_path / "logs")
    result = subprocess.run(
        [
            dbt_executable(),
            "docs",
            "generate",
            "--static",
            "--no-compile",
            "--target-path",
            str(target),
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (target / "index.html").exists() and (target / "static_index.html").exists()
    manifest = json.loads((target / "manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.customer_outcomes.success_gap_dashboard"]
    assert "model.customer_outcomes.fct_success_gaps" in exposure["depends_on"]["nodes"]
    assert manifest["semantic_models"], "semantic models are in the docs site"
    # The site opens on the project's own overview (models/overview.md), not dbt's welcome.
    overview = manifest["docs"]["doc.customer_outcomes.__overview__"]["block_contents"]
    assert "How to read the lineage" in overview
    catalog = json.loads((target / "catalog.json").read_text())
    gaps = catalog["nodes"]["model.customer_outcomes.fct_success_gaps"]
    assert "gap_type" in gaps["columns"]
    documented = manifest["nodes"]["model.customer_outcomes.fct_success_gaps"]["columns"]
    assert documented["gap_type"]["description"]
    assert os.path.getsize(target / "static_index.html") > 100_000
