"""The project's build on Spark, run by test_spark.py with the Spark environment's Python in
the suite's working directory: dbt build of everything before the renewal model, the model
(customer_outcomes.renewal_step), dbt build of the renewal marts; as a Spark user runs the three
steps, but in one process, so the three share one JVM and Spark session (each JVM start costs
seconds of CPU that the suites running beside this one would otherwise have). Then an
incremental run of the daily usage mart, its table copied to daily_before/ first.

usage: python spark_build.py <project dir> <vars json>
Writes build_results.json and marts_results.json (the two builds' run results), and prints
dbt's output and the model's summary.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dbt.cli.main import dbtRunner

from customer_outcomes.renewal_step import SPARK_CONF, SparkEngine, score


def main(project_dir: str, variables: str) -> int:
    common = ["--project-dir", project_dir, "--profiles-dir", project_dir, "--vars", variables]
    runner = dbtRunner()
    # The staging and intermediate data tests (127 checks of the same SQL, which run on DuckDB
    # and Postgres) are left out to keep CI short: Spark spends seconds on each query.
    excluded = ["test_type:data,path:models/staging", "test_type:data,path:models/intermediate"]
    first = runner.invoke(["build", "--exclude", "source:renewal_model+", *excluded, *common])
    target = Path(os.environ["DBT_TARGET_PATH"])
    shutil.copy(target / "run_results.json", Path.cwd() / "build_results.json")
    if not first.success:
        return 1
    scored = score(SparkEngine(SPARK_CONF))  # in the Spark that dbt-spark started
    print(f"renewal model on spark: {scored.model_status} ({scored.model_version}), {scored.rows}")
    marts = runner.invoke(["build", "--select", "source:renewal_model+", *common])
    shutil.copy(target / "run_results.json", Path.cwd() / "marts_results.json")
    if not marts.success:
        return 1
    # The incremental path (insert_overwrite by day): the daily usage mart as built, then an
    # incremental run of it, for the test to compare.
    daily = Path.cwd() / "spark-warehouse" / "marts.db" / "fct_account_usage_daily"
    shutil.copytree(daily, Path.cwd() / "daily_before")
    rerun = runner.invoke(["run", "-s", "fct_account_usage_daily", *common])
    return 0 if rerun.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
