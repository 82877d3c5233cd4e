"""Other engines: put the validated raw tables where Postgres or Spark can read them.

The loader (contract checks, quarantine, load log) runs on DuckDB. For another engine the
validated ``raw`` schema is copied across as it is: same tables, columns and types, so the
dbt sources are identical on every engine.

* Postgres: ``copy_raw_to_postgres`` creates ``raw.<table>`` and streams each table with
  ``COPY ... FROM STDIN`` (CSV written by DuckDB).
* Spark: ``export_raw_parquet`` writes one Parquet folder per table; dbt declares them as
  ``raw.<table>`` in Spark's catalog when a run starts (macros/engine_hooks.sql).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv

from .contract import TABLES

PG_TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return duck_type.replace("DECIMAL", "numeric")
    return PG_TYPES[duck_type]


def pg_dsn() -> str:
    """Connection string from the same variables as the `postgres` target of profiles.yml."""
    env = os.environ
    return (
        f"host={env.get('OUTCOMES_PG_HOST', '127.0.0.1')} "
        f"port={env.get('OUTCOMES_PG_PORT', '5432')} "
        f"user={env.get('OUTCOMES_PG_USER', 'outcomes')} "
        f"password={env.get('DBT_ENV_SECRET_PG_PASSWORD', '')} "
        f"dbname={env.get('OUTCOMES_PG_DATABASE', 'outcomes')}"
    )


def copy_raw_to_postgres(warehouse: Path, dsn: str | None = None) -> dict[str, int]:
    """Replace Postgres ``raw.*`` with the DuckDB warehouse's validated raw tables."""
    import psycopg2

    duck = duckdb.connect(str(warehouse), read_only=True)
    pg = psycopg2.connect(dsn or pg_dsn())
    counts = {}
    try:
        with pg, pg.cursor() as cur:
            cur.execute("create schema if not exists raw")
            for name in TABLES:
                columns = duck.execute(
                    """select column_name, data_type from information_schema.columns
                    where table_schema = 'raw' and table_name = ? order by ordinal_position""",
                    [name],
                ).fetchall()
                ddl = ", ".join(f'"{c}" {_pg_type(t)}' for c, t in columns)
                cur.execute(f"drop table if exists raw.{name} cascade")
                cur.execute(f"create table raw.{name} ({ddl})")
                buffer = io.BytesIO()
                frame = duck.sql(f"select * from raw.{name}").to_arrow_table()
                pacsv.write_csv(frame, buffer)
                buffer.seek(0)
                copy = f"copy raw.{name} from stdin with (format csv, header true)"
                cur.copy_expert(copy, buffer)
                counts[name] = frame.num_rows
    finally:
        pg.close()
        duck.close()
    return counts


def export_raw_parquet(warehouse: Path, out_dir: Path) -> dict[str, Path]:
    """One Parquet file per raw table, for engines that read files (Spark)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    duck = duckdb.connect(str(warehouse), read_only=True)
    paths = {}
    try:
        for name in TABLES:
            path = out_dir / name
            path.mkdir(exist_ok=True)
            target = path / "part-0.parquet"
            duck.execute(f"copy raw.{name} to '{target}' (format parquet)")
            paths[name] = path
    finally:
        duck.close()
    return paths
