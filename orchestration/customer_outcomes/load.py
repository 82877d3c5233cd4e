"""Landing files -> the ``raw`` schema of the warehouse, append-only and traceable.

For every ``<landing>/<table>/*.csv|*.parquet`` file, in name order:

* a file whose content (SHA-256) was already loaded into that table is skipped, so loading a
  directory twice adds nothing;
* the file is read as text and checked against the contract. **File-level** problems reject the
  whole file, load nothing of it and make the load fail: it cannot be parsed, it lacks a required
  column, or a column that has values has not one that parses as its contract type.
  Unknown extra columns are reported and ignored; a missing optional column loads as null.
* **Row-level** problems (a value that does not parse, a null in a required column, a value
  outside the accepted set or range) send that row to ``raw._quarantine`` with the table, file,
  rule, column and the original row as JSON; the other rows load.
* Each file is loaded in one transaction together with its entry in ``raw._load_log``, so a
  failure leaves everything loaded before intact.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .contract import LINEAGE_COLUMNS, RAW_TYPES, TABLES, Column, Table

DATA_SUFFIXES = {".csv", ".parquet"}


class LoadError(Exception):
    """A landing file was rejected as a whole."""


@dataclass
class FileResult:
    table: str
    file: str
    status: str  # loaded | skipped | rejected
    rows_loaded: int = 0
    rows_quarantined: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    message: str = ""
    quarantine_rules: dict[str, int] = field(default_factory=dict)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for table in TABLES.values():
        cols = [f"{_q(c.name)} {RAW_TYPES[c.type]}" for c in table.columns]
        cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS.items()]
        con.execute(f"create table if not exists raw.{table.name} ({', '.join(cols)})")
    con.execute(
        """create table if not exists raw._load_log (
            batch_id varchar, table_name varchar, source_file varchar, file_sha256 varchar,
            rows_loaded bigint, rows_quarantined bigint, ignored_columns varchar,
            loaded_at timestamp)"""
    )
    con.execute(
        """create table if not exists raw._quarantine (
            batch_id varchar, table_name varchar, source_file varchar, rule varchar,
            column_name varchar, original_row json, quarantined_at timestamp,
            reloaded_at timestamp)"""
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parsed(col: Column, ref: str) -> str:
    """SQL that parses the text ``ref`` as the column's contract type (null when it cannot)."""
    text = f"nullif(trim({ref}), '')"
    if col.type == "integer":
        return f"case when regexp_full_match({text}, '[+-]?[0-9]+') then cast({text} as bigint) end"
    if col.type == "boolean":
        return f"case lower({text}) when 'true' then true when 'false' then false end"
    if col.type == "timestamp":
        return f"cast(try_cast({text} as timestamptz) as timestamp)"
    if col.type == "string":
        return f"nullif({ref}, '')"
    return f"try_cast({text} as {RAW_TYPES[col.type]})"


def _row_rules(table: Table, present: set[str]) -> list[tuple[str, str, str]]:
    """(rule, column, SQL predicate that is true when the row breaks the rule)."""
    rules = []
    for col in table.columns:
        if col.name not in present:
            continue
        ref = f"src.{_q(col.name)}"
        text = f"nullif(trim({ref}), '')"
        if col.required:
            rules.append(("not_null", col.name, f"{text} is null"))
        if col.type != "string":
            rules.append(
                (
                    f"type:{col.type}",
                    col.name,
                    f"{text} is not null and ({_parsed(col, ref)}) is null",
                )
            )
        if col.accepted:
            values = ", ".join(f"'{v}'" for v in col.accepted)
            rules.append(
                ("accepted_values", col.name, f"{text} is not null and {text} not in ({values})")
            )
        if col.min is not None:
            rules.append((f"min:{col.min:g}", col.name, f"({_parsed(col, ref)}) < {col.min}"))
        if col.max is not None:
            rules.append((f"max:{col.max:g}", col.name, f"({_parsed(col, ref)}) > {col.max}"))
    return rules


def _read_as_text(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Create temp view ``src`` with every column of the file as text; return its columns."""
    lit = "'" + str(path).replace("'", "''") + "'"
    if path.suffix == ".parquet":
        reader = f"read_parquet({lit})"
    else:
        options = "header = true, all_varchar = true, strict_mode = true, delim = ','"
        reader = f"read_csv({lit}, {options}, quote = '\"')"
    try:
        con.execute(f"create or replace temp table src_typed as select * from {reader}")
        cols = [r[0] for r in con.execute("describe src_typed").fetchall()]
    except duckdb.Error as exc:
        raise LoadError(f"cannot be parsed: {str(exc).splitlines()[0]}") from exc
    casts = ", ".join(f"cast({_q(c)} as varchar) as {_q(c)}" for c in cols)
    con.execute(
        "create or replace temp table src as "
        f"select row_number() over () as __rownum, {casts} from src_typed"
    )
    con.execute("drop table src_typed")
    return cols


def load_file(con: duckdb.DuckDBPyConnection, table: Table, path: Path) -> FileResult:
    """Load one landing file into ``raw.<table>`` in one transaction (see module doc)."""
    result = FileResult(table.name, str(path), "loaded")
    sha = _sha256(path)
    seen = con.execute(
        "select source_file from raw._load_log where table_name = ? and file_sha256 = ? limit 1",
        [table.name, sha],
    ).fetchone()
    if seen:
        result.status, result.message = "skipped", f"already loaded (same content as {seen[0]})"
        return result
    con.execute("begin transaction")
    try:
        _load_checked(con, table, path, sha, result)
        con.execute("commit")
    except LoadError as exc:
        con.execute("rollback")
        result.status = "rejected"
        result.message = f"{table.name}: {path}: {exc}"
    except Exception:
        con.execute("rollback")
        raise
    return result


def _load_checked(con, table: Table, path: Path, sha: str, result: FileResult) -> None:
    columns = _read_as_text(con, path)
    present = set(columns)
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        raise LoadError(f"missing required column(s): {', '.join(missing)}")
    result.ignored_columns = [c for c in columns if c not in table.column_names]
    # A column with values none of which parse is a wrong type for the whole column.
    for col in table.columns:
        if col.name not in present or col.type == "string":
            continue
        ref = f"src.{_q(col.name)}"
        filled, parsed = con.execute(
            f"select count(nullif(trim({ref}), '')), count({_parsed(col, ref)}) from src"
        ).fetchone()
        if filled and not parsed:
            raise LoadError(f"column {col.name}: no value parses as {col.type} ({filled} values)")
    batch_id = uuid.uuid4().hex
    rules = _row_rules(table, present)
    original = "json_object(" + ", ".join(f"'{c}', src.{_q(c)}" for c in columns) + ")"
    if rules:
        checks = ", ".join(f"case when {pred} then '{rule}|{col}' end" for rule, col, pred in rules)
        con.execute(
            f"""create or replace temp table broken as
            select __rownum, split_part(v, '|', 1) as rule, split_part(v, '|', 2) as column_name,
                   original_row
            from (
                select __rownum, {original} as original_row,
                       unnest(list_filter([{checks}], lambda x: x is not null)) as v
                from src
                where {" or ".join(f"coalesce({pred}, false)" for _, _, pred in rules)}
            )"""
        )
    else:
        con.execute(
            "create or replace temp table broken (__rownum bigint, rule varchar, "
            "column_name varchar, original_row json)"
        )
    con.execute(
        """insert into raw._quarantine
        select ?, ?, ?, rule, column_name, original_row, current_timestamp::timestamp, null
        from broken""",
        [batch_id, table.name, str(path)],
    )
    values = []
    for col in table.columns:
        values.append(_parsed(col, f"src.{_q(col.name)}") if col.name in present else "null")
    cols = ", ".join([*(_q(c) for c in table.column_names), *LINEAGE_COLUMNS])
    inserted = con.execute(
        f"""insert into raw.{table.name} ({cols})
        select {", ".join(values)}, ?, current_timestamp::timestamp, ?
        from src
        where not exists (select 1 from broken where broken.__rownum = src.__rownum)""",
        [str(path), batch_id],
    ).fetchone()[0]
    result.rows_loaded = inserted
    for rule, column, n in con.execute(
        "select rule, column_name, count(distinct __rownum) from broken group by all order by all"
    ).fetchall():
        result.quarantine_rules[f"{column}:{rule}"] = n
    result.rows_quarantined = con.execute("select count(distinct __rownum) from broken").fetchone()[
        0
    ]
    con.execute(
        "insert into raw._load_log values (?, ?, ?, ?, ?, ?, ?, current_timestamp::timestamp)",
        [
            batch_id,
            table.name,
            str(path),
            sha,
            result.rows_loaded,
            result.rows_quarantined,
            ",".join(result.ignored_columns) or None,
        ],
    )


def landing_files(landing: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Data files per contract table, plus notes on what in the landing dir is not a table."""
    files: dict[str, list[Path]] = {}
    notes = []
    if not landing.is_dir():
        return files, [f"landing directory {landing} does not exist"]
    for entry in sorted(landing.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.name not in TABLES or not entry.is_dir():
            notes.append(f"ignored {entry}: not a table folder of the contract")
            continue
        found = sorted(p for p in entry.iterdir() if p.suffix.lower() in DATA_SUFFIXES)
        if found:
            files[entry.name] = found
    return files, notes


def load_landing(
    warehouse: Path, landing: Path, progress: Callable[[str], None] = print
) -> list[FileResult]:
    """Load every new landing file; returns one result per file (see ``FileResult``)."""
    files, notes = landing_files(landing)
    for note in notes:
        progress(note)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("set TimeZone = 'UTC'")
        ensure_raw_schema(con)
        results = []
        for name in TABLES:  # contract order: referenced tables first
            for path in files.get(name, []):
                res = load_file(con, TABLES[name], path)
                results.append(res)
                progress(describe(res))
        return results
    finally:
        con.close()


def describe(res: FileResult) -> str:
    name = Path(res.file).name
    if res.status == "skipped":
        return f"  skip   {res.table}/{name}: {res.message}"
    if res.status == "rejected":
        return f"  REJECT {res.message}"
    text = f"  load   {res.table}/{name}: {res.rows_loaded:,} rows"
    if res.rows_quarantined:
        rules = ", ".join(f"{k} x{v}" for k, v in res.quarantine_rules.items())
        text += f", {res.rows_quarantined:,} quarantined ({rules})"
    if res.ignored_columns:
        text += f"; ignored unknown column(s): {', '.join(res.ignored_columns)}"
    return text
