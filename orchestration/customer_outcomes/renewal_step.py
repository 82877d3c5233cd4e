"""The renewal model's step, on any engine: read ``int_renewal_features`` and
``int_renewal_model_settings`` through the engine's connection, train (or reuse the week's
training) and score with ``renewal_model``, write its tables to schema ``renewal_model``.

The dbt marts ``fct_renewal_predictions``, ``fct_renewal_signal_evaluation``,
``fct_renewal_signal_lead_time`` and ``fct_renewal_calibration`` select from those tables (dbt
sources), so the semantic layer, the data tests and the BI role see the same marts on DuckDB,
Postgres and Spark. The Dagster asset
``renewal_model`` runs this step between the dbt models before and after it; ``outcomes build``
and the engine suites run the same three steps (``dbt build --selector before_renewal_model``,
this step, ``dbt build --selector renewal_marts``). Usable as
``python -m customer_outcomes.renewal_step --engine spark`` in the Spark environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import Settings, apply_duckdb_limits, model_cache_dir
from .renewal_model import run, settings_from_frame

SCHEMA = "renewal_model"
# The tables the step writes, with their columns and portable types.
TABLES: dict[str, dict[str, str]] = {
    "predictions": {
        "contract_id": "varchar",
        "account_id": "varchar",
        "renewal_date": "date",
        "cutoff_date": "date",
        "expiring_arr": "double",
        "renewal_probability": "double",
        "risk_band": "varchar",
        "arr_at_risk": "double",
        "top_drivers": "varchar",
        "model_status": "varchar",
        "model_version": "varchar",
        "scored_at": "date",
    },
    "signal_evaluation": {
        "signal": "varchar",
        "feature": "varchar",
        "status": "varchar",
        "roc_auc": "double",
        "brier_score": "double",
        "n_with_signal": "bigint",
        "n_test": "bigint",
        "n_train": "bigint",
        "test_from_date": "date",
        "model_version": "varchar",
    },
    "calibration": {
        "decile": "bigint",
        "n": "bigint",
        "mean_predicted": "double",
        "observed_rate": "double",
        "model_version": "varchar",
    },
}
# The signal evaluation's columns with the lead time after the feature.
_SIGNAL_COLUMNS = list(TABLES["signal_evaluation"].items())
TABLES["signal_lead_time"] = dict(
    [*_SIGNAL_COLUMNS[:2], ("lead_days", "bigint"), *_SIGNAL_COLUMNS[2:]]
)
ENGINE_TYPES = {
    "duckdb": {"varchar": "varchar", "double": "double", "date": "date", "bigint": "bigint"},
    "postgres": {
        "varchar": "text",
        "double": "double precision",
        "date": "date",
        "bigint": "bigint",
    },
    "spark": {"varchar": "string", "double": "double", "date": "date", "bigint": "bigint"},
}


@dataclass(frozen=True)
class Scored:
    rows: dict[str, int]
    model_status: str
    model_version: str


def _value(value, kind: str):
    """A frame's cell as the Python value its column type takes (None for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if kind == "date":
        return pd.Timestamp(value).date()
    if kind == "double":
        return float(value)
    if kind == "bigint":
        return int(value)
    return str(value)


def rows_of(frame: pd.DataFrame, columns: dict[str, str]) -> list[tuple]:
    frame = frame.astype(object).where(frame.notna(), None)
    return [
        tuple(_value(v, kind) for v, kind in zip(row, columns.values(), strict=True))
        for row in frame[list(columns)].itertuples(index=False, name=None)
    ]


def outputs(features: pd.DataFrame, settings_frame: pd.DataFrame) -> tuple[dict, str, str]:
    """The tables' frames, the model status and version, for these inputs."""
    result = run(features, settings_from_frame(settings_frame), cache_dir=model_cache_dir())
    predictions = result.predictions.rename(columns={"as_of_date": "scored_at"})
    frames = {
        "predictions": predictions,
        "signal_evaluation": result.signals,
        "signal_lead_time": result.lead_time,
        "calibration": result.calibration,
    }
    return frames, result.model_status, result.model_version


class Engine(ABC):
    """Reads a table as a frame, replaces a table with rows."""

    name = ""

    @abstractmethod
    def read(self, schema: str, table: str) -> pd.DataFrame: ...

    @abstractmethod
    def replace(self, table: str, columns: dict[str, str], rows: list[tuple]) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def ddl(self, columns: dict[str, str]) -> str:
        types = ENGINE_TYPES[self.name]
        return ", ".join(f"{c} {types[t]}" for c, t in columns.items())


class DuckDBEngine(Engine):
    name = "duckdb"

    def __init__(self, warehouse: Path | None):
        import duckdb

        warehouse = warehouse or Settings.from_env().warehouse
        self.con = duckdb.connect(str(warehouse))
        apply_duckdb_limits(self.con, warehouse)

    def read(self, schema, table):
        return self.con.execute(f"select * from {schema}.{table}").df()

    def replace(self, table, columns, rows):
        self.con.execute("begin")
        self.con.execute(f"create schema if not exists {SCHEMA}")
        self.con.execute(f"create or replace table {SCHEMA}.{table} ({self.ddl(columns)})")
        if rows:
            marks = ", ".join("?" for _ in columns)
            self.con.executemany(f"insert into {SCHEMA}.{table} values ({marks})", rows)
        self.con.execute("commit")

    def close(self):
        self.con.close()


class PostgresEngine(Engine):
    name = "postgres"

    def __init__(self, dsn: str):
        import psycopg2

        self.con = psycopg2.connect(dsn)

    def read(self, schema, table):
        with self.con.cursor() as cur:
            cur.execute(f"select * from {schema}.{table}")
            names = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=names)

    def replace(self, table, columns, rows):
        from psycopg2.extras import execute_values

        with self.con, self.con.cursor() as cur:
            cur.execute(f"create schema if not exists {SCHEMA}")
            cur.execute(f"drop table if exists {SCHEMA}.{table}")
            cur.execute(f"create table {SCHEMA}.{table} ({self.ddl(columns)})")
            if rows:
                execute_values(cur, f"insert into {SCHEMA}.{table} values %s", rows)

    def close(self):
        self.con.close()


class SparkEngine(Engine):
    """The Spark catalog of dbt-spark's session target: run in the Spark environment, in the
    directory dbt runs in (metastore_db/ and spark-warehouse/ are found there)."""

    name = "spark"

    def __init__(self, conf: dict[str, str]):
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName("renewal_model").enableHiveSupport()
        for key, value in conf.items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()

    def read(self, schema, table):
        frame = self.spark.table(f"{schema}.{table}")
        return pd.DataFrame([tuple(r) for r in frame.collect()], columns=frame.columns)

    def replace(self, table, columns, rows):
        self.spark.sql(f"create database if not exists {SCHEMA}")
        frame = self.spark.createDataFrame(rows, schema=self.ddl(columns))
        frame.write.mode("overwrite").format("parquet").saveAsTable(f"{SCHEMA}.{table}")

    def close(self):
        self.spark.stop()


def score(engine: Engine) -> Scored:
    """The step on ``engine``: read the features, run the model, write the tables."""
    features = engine.read("intermediate", "int_renewal_features")
    settings_frame = engine.read("intermediate", "int_renewal_model_settings")
    frames, status, version = outputs(features, settings_frame)
    counts = {}
    for table, columns in TABLES.items():
        rows = rows_of(frames[table], columns)
        engine.replace(table, columns, rows)
        counts[table] = len(rows)
    return Scored(counts, status, version)


@contextmanager
def engine_for(target: str, warehouse: Path | None = None) -> Iterator[Engine]:
    """The engine of a dbt target type (duckdb: the warehouse file; postgres: the profile's
    variables; spark: the settings of the profile's spark target)."""
    if target == "duckdb":
        engine: Engine = DuckDBEngine(warehouse)
    elif target == "postgres":
        from .engines import pg_dsn

        engine = PostgresEngine(pg_dsn())
    elif target == "spark":
        engine = SparkEngine(SPARK_CONF)
    else:
        raise ValueError(f"unknown engine {target!r}: duckdb, postgres or spark")
    try:
        yield engine
    finally:
        engine.close()


# The settings profiles.yml gives dbt-spark's session (server_side_parameters).
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.sql.legacy.createHiveTableByDefault": "false",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m customer_outcomes.renewal_step",
        description="Train (or reuse the week's training) and score renewals on an engine.",
    )
    parser.add_argument("--engine", choices=sorted(ENGINE_TYPES), default="duckdb")
    parser.add_argument(
        "--warehouse", type=Path, help="DuckDB file (engine duckdb; default $OUTCOMES_WAREHOUSE)"
    )
    args = parser.parse_args(argv)
    started = dt.datetime.now()
    with engine_for(args.engine, args.warehouse) as engine:
        scored = score(engine)
    seconds = (dt.datetime.now() - started).total_seconds()
    print(
        f"renewal model on {args.engine}: {scored.model_status} ({scored.model_version}), "
        + ", ".join(f"{t} {n} rows" for t, n in scored.rows.items())
        + f" in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
