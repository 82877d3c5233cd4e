"""Write-audit-publish: copy the audited marts from the build database to the serve database.

The marts (never raw, staging or intermediate) are written to a new DuckDB file next to the
serve file, which then atomically replaces it (``os.replace``). A BI tool holding the old serve
file open read-only keeps reading the old data until it reconnects and never blocks the run; a
failed or killed publish leaves the previous serve file as it was.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .config import apply_duckdb_limits, locked_by_another_process

SERVE_SCHEMA = "marts"


@dataclass
class PublishResult:
    serve: Path
    tables: dict[str, int]
    content_hash: str


def connect_when_free(path: Path, read_only: bool = True, wait_seconds: float = 120):
    """Open a DuckDB file, waiting while another process (a finishing dbt run) holds its lock."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not locked_by_another_process(exc) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def _wait_for_lock(path: Path) -> None:
    connect_when_free(path).close()


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def publish(warehouse: Path, serve: Path, parquet_dir: Path | None = None) -> PublishResult:
    serve.parent.mkdir(parents=True, exist_ok=True)
    _wait_for_lock(warehouse)
    scratch = serve.with_name(f".{serve.name}.{uuid.uuid4().hex}.tmp")
    tables: dict[str, int] = {}
    try:
        con = duckdb.connect(str(scratch))
        try:
            apply_duckdb_limits(con, warehouse)
            con.execute(f"attach {_lit(warehouse)} as build (read_only)")
            # The marts' tables and views (a view mart is published as a table).
            names = [
                r[0]
                for r in con.execute(
                    """select table_name from duckdb_tables()
                    where database_name = 'build' and schema_name = 'marts'
                    union all
                    select view_name from duckdb_views()
                    where database_name = 'build' and schema_name = 'marts'
                    order by 1"""
                ).fetchall()
            ]
            if not names:
                raise RuntimeError(f"no marts to publish in {warehouse}")
            con.execute(f"create schema {SERVE_SCHEMA}")
            for name in names:
                con.execute(
                    f"create table {SERVE_SCHEMA}.{name} as select * from build.marts.{name}"
                )
                tables[name] = con.execute(
                    f"select count(*) from {SERVE_SCHEMA}.{name}"
                ).fetchone()[0]
            content_hash = marts_hash(con)
            con.execute(
                f"""create table {SERVE_SCHEMA}._published as
                select current_timestamp::timestamp as published_at, ? as content_hash""",
                [content_hash],
            )
            if parquet_dir is not None:
                parquet_dir.mkdir(parents=True, exist_ok=True)
                for name in names:
                    con.execute(
                        f"copy {SERVE_SCHEMA}.{name} to {_lit(parquet_dir / f'{name}.parquet')} "
                        "(format parquet)"
                    )
            con.execute("detach build")
        finally:
            con.close()
        os.replace(scratch, serve)
    finally:
        for leftover in (scratch, scratch.with_name(scratch.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return PublishResult(serve, tables, content_hash)


class MartsBreakPromises(RuntimeError):
    """The mart suites failed: nothing was published."""


def mart_failures(warehouse: Path, progress: Callable[[str], None] = print) -> dict[str, list[str]]:
    """Run the mart suites (GX), reporting each mart; the broken promises by mart."""
    from .gx_suites import validate_marts

    con = connect_when_free(warehouse)
    try:
        failures = validate_marts(con)
    finally:
        con.close()
    for mart, found in failures.items():
        progress(f"  {mart}: {'FAILED ' + '; '.join(found) if found else 'ok'}")
    return {mart: found for mart, found in failures.items() if found}


def check_marts(warehouse: Path, progress: Callable[[str], None] = print) -> bool:
    """False, with the broken promises reported, when a mart breaks one."""
    if mart_failures(warehouse, progress):
        progress("mart validation FAILED: a mart breaks its promise (see above)")
        return False
    return True


def audit_and_publish(
    warehouse: Path,
    serve: Path,
    parquet_dir: Path | None = None,
    progress: Callable[[str], None] = print,
) -> PublishResult:
    """Write-audit-publish: the marts' promises checked on the build database, then the
    marts published; a broken promise raises MartsBreakPromises and leaves ``serve`` as
    it was."""
    broken = mart_failures(warehouse, progress)
    if broken:
        found = "; ".join(f"{mart}: {', '.join(rules)}" for mart, rules in broken.items())
        raise MartsBreakPromises(
            f"mart validation FAILED ({found}); nothing published, {serve} is unchanged"
        )
    result = publish(warehouse, serve, parquet_dir)
    progress(f"published {len(result.tables)} marts to {result.serve}")
    if parquet_dir is not None:
        progress(f"  and as Parquet files to {parquet_dir}/<mart>.parquet")
    progress(f"content hash {result.content_hash[:16]}")
    return result


def marts_hash(con: duckdb.DuckDBPyConnection, schema: str = SERVE_SCHEMA) -> str:
    """A hash of every mart's content, independent of row order, to compare publications:
    per mart its row count and the sum of DuckDB's 64-bit hash of each row (a sorted dump of
    the rows as text took 7.9 s of a 8.9 s publish at 10 M events; this takes 0.1 s)."""
    digest = hashlib.sha256()
    names = [
        r[0]
        for r in con.execute(
            f"""select table_name from duckdb_tables()
            where database_name = current_database() and schema_name = '{schema}'
                and table_name not like '\\_%' escape '\\'
            order by 1"""
        ).fetchall()
    ]
    for name in names:
        rows, total = con.execute(
            f"select count(*), sum(hash(t)::hugeint) from {schema}.{name} as t"
        ).fetchone()
        digest.update(f"{name}:{rows}:{total}\n".encode())
    return digest.hexdigest()
