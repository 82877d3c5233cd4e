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

import bisect
import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from .config import apply_duckdb_limits, locked_by_another_process
from .contract import LINEAGE_COLUMNS, RAW_TYPES, TABLES, Column, Table, product_metrics
from .gx_suites import ROW, Violation, validate_frame

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
    rows_in_file: int = 0
    quarantine_rules: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)


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
    """The loader's own row rules, checked in SQL on temp table ``typed`` (alias ``t``) beside
    GX's suite: a value must parse as its type (GX checks the text form; this also catches a
    30 February), foreign keys must exist in raw, and a primary key may not come back with
    other content."""
    rules = []
    for col in table.columns:
        if col.name not in present or col.type == "string":
            continue
        rules.append(
            (
                f"type: not a valid {col.type}",
                col.name,
                f"t.{_q(col.name + FILLED)} and t.{_q(col.name)} is null",
            )
        )
    for column, (ref_table, ref_key) in table.foreign_keys.items():
        if column not in present:
            continue
        text = f"t.{_q(column + TRIMMED)}"
        rules.append(
            (
                f"foreign key: no {ref_table}.{ref_key}",
                column,
                f"{text} is not null and not exists "
                f"(select 1 from raw.{ref_table} as parent where parent.{_q(ref_key)} = {text})",
            )
        )
    rules += _product_metric_rules(table, present)
    rules.append(
        (
            "primary key: same key, other content",
            ",".join(_key_columns(table)),
            "t.__rownum in (select __rownum from pk_conflicts)",
        )
    )
    return rules


def _product_metric_rules(table: Table, present: set[str]) -> list[tuple[str, str, str]]:
    """A product-measured goal must name a metric of the catalogue (seeds/product_metrics.csv),
    with a feature of raw.features when the metric takes one and none otherwise."""
    if table.name != "customer_goals" or not {"kpi_source", "product_metric"} <= present:
        return []
    catalogue = product_metrics()
    named = "t.kpi_source = 'product' and t.product_metric is not null"
    key, feature = "split_part(t.product_metric, ':', 1)", "split_part(t.product_metric, ':', 2)"
    with_feature = ", ".join(_lit(k) for k, takes in catalogue.items() if takes)
    plain = ", ".join(_lit(k) for k, takes in catalogue.items() if not takes)
    return [
        (
            "product metric: not in the catalogue (seeds/product_metrics.csv)",
            "product_metric",
            f"{named} and not ({key} in ({plain}) and t.product_metric = {key}"
            f" or {key} in ({with_feature}) and {feature} <> '')",
        ),
        (
            "product metric: no features.feature_key",
            "product_metric",
            f"{named} and {key} in ({with_feature}) and {feature} <> '' and not exists "
            f"(select 1 from raw.features as f where f.feature_key = {feature})",
        ),
    ]


# Helper columns of temp table ``typed``, beside each column's parsed value: whether the text
# has a value at all (typed columns), and the trimmed text a foreign key is looked up by.
FILLED, TRIMMED = "__filled", "__trimmed"


def _parse_src(con, table: Table, present: set[str]) -> None:
    """Temp table ``typed``: every row of ``src`` parsed once as the contract types (null where
    a value does not parse; a column the file lacks is null), with the FILLED and TRIMMED
    helpers. The whole-column check, the row rules, the key conflicts and the insert all read
    it, instead of each parsing the text again."""
    cols = ["__rownum"]
    for col in table.columns:
        ref = f"src.{_q(col.name)}"
        if col.name not in present:
            cols.append(f"cast(null as {RAW_TYPES[col.type]}) as {_q(col.name)}")
            continue
        cols.append(f"{_parsed(col, ref)} as {_q(col.name)}")
        if col.type != "string":
            cols.append(f"nullif(trim({ref}), '') is not null as {_q(col.name + FILLED)}")
        if col.name in table.foreign_keys:
            cols.append(f"nullif(trim({ref}), '') as {_q(col.name + TRIMMED)}")
    con.execute(f"create or replace temp table typed as select {', '.join(cols)} from src")


# Columns that may differ between deliveries of the same record without a conflict (an
# activity is delivered open, then again when it closes).
REDELIVERY_COLUMNS = {"usage_events": {"received_at"}, "cs_activities": {"closed_at", "outcome"}}
# Tables whose records are versioned: a newer version is an update, not a conflict.
VERSION_COLUMNS = {"customer_goals": "updated_at"}
# Tables where a later delivery of a key replaces the loaded row (the staging model keeps the
# latest load): only a key twice in one file with other content is a conflict.
REPLACED_ON_REDELIVERY = {"usage_daily"}


def _key_columns(table: Table) -> list[str]:
    keys = list(table.primary_key)
    if table.name in VERSION_COLUMNS:
        keys.append(VERSION_COLUMNS[table.name])
    return keys


def _find_pk_conflicts(con, table: Table, present: set[str]) -> None:
    """Temp table pk_conflicts: rows whose key comes with other content, in the file or in raw.
    Keys and content are compared as parsed values (``typed``), so ``1.00`` and ``1.0000``
    are the same content, and a row without a key value is one key with the others."""
    keys = _key_columns(table)
    content_cols = [
        c.name
        for c in table.columns
        if c.name in present
        and c.name not in keys
        and c.name not in REDELIVERY_COLUMNS.get(table.name, set())
    ]

    def content(alias: str) -> str:
        if not content_cols:
            return "0"
        return "row(" + ", ".join(f"{alias}.{_q(c)}" for c in content_cols) + ")"

    def same_key(a: str, b: str, b_names: list[str] | None = None) -> str:
        names = b_names or [f"k{i}" for i in range(len(keys))]
        return " and ".join(f"{a}.k{i} is not distinct from {b}.{n}" for i, n in enumerate(names))

    key_cols = ", ".join(f"k{i}" for i in range(len(keys)))
    against_raw = (
        ""
        if table.name in REPLACED_ON_REDELIVERY
        else f"""union
        select keyed.__rownum from keyed
        inner join raw_keyed as rk on {same_key("keyed", "rk")} and keyed.c is distinct from rk.c"""
    )
    con.execute(
        f"""create or replace temp table pk_conflicts as
        with keyed as (
            select __rownum, {", ".join(f"t.{_q(k)} as k{i}" for i, k in enumerate(keys))},
                {content("t")} as c
            from typed as t
        ),
        conflicting_keys as (
            select {key_cols} from keyed group by all having count(distinct c) > 1
        ),
        raw_keyed as (
            -- only the raw rows that share a key with the file: a daily file checked against
            -- 100 M rows of history must not de-duplicate the history (15 GB, measured)
            select distinct {", ".join(f"r.{_q(k)} as k{i}" for i, k in enumerate(keys))},
                {content("r")} as c
            from raw.{table.name} as r
            where exists (
                select 1 from keyed
                where {same_key("keyed", "r", [_q(k) for k in keys])}
            )
        )
        select keyed.__rownum from keyed
        inner join conflicting_keys as ck on {same_key("keyed", "ck")}
        {against_raw}"""
    )


def _reading_error(exc: duckdb.Error) -> str:
    """DuckDB's error reading a file, in one line: its first, and for a CSV error the reason
    (the line before DuckDB's "Possible Solution"), without the reader's options and advice."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()] or [type(exc).__name__]
    first = lines[0].removeprefix("Invalid Input Error: ")
    if first.startswith("Error when sniffing file"):
        return (
            "not comma-separated UTF-8 text with a header row: a row with more or fewer fields "
            "than the header, or a quote left open"
        )
    advice = next((i for i, x in enumerate(lines) if x.startswith("Possible")), 0)
    if first.startswith("CSV Error on Line") and advice > 1:
        return f"{first}: {lines[advice - 1]}"
    return first


def _blank_lines_first(path: Path) -> int:
    """How many empty lines come before a CSV file's header (after a byte order mark)."""
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(b"\xef\xbb\xbf")
    return head[: len(head) - len(head.lstrip(b"\r\n"))].count(b"\n")


def _read_as_text(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Create temp view ``src`` with every column of the file as text; return its columns."""
    if path.stat().st_size == 0:
        raise LoadError("cannot be parsed: the file is empty (0 bytes)")
    lit = "'" + str(path).replace("'", "''") + "'"
    try:
        if path.suffix.lower() == ".parquet":
            reader = f"read_parquet({lit})"
            typed = [r[0] for r in con.execute(f"describe select * from {reader}").fetchall()]
            text = ", ".join(f"cast({_q(c)} as varchar) as {_q(c)}" for c in typed)
        else:  # every column read as text already
            # The header is the first line that is not empty: the sniffer, left to choose, may
            # skip it and take a row of data for the header.
            skip = _blank_lines_first(path)
            options = f"header = true, skip = {skip}, all_varchar = true, strict_mode = true"
            options += ", delim = ','"
            reader, text = f"read_csv({lit}, {options}, quote = '\"')", "*"
        # row_number() over () numbers the rows in file order (DuckDB keeps insertion order)
        con.execute(
            "create or replace temp table src as "
            f"select row_number() over () as __rownum, {text} from {reader}"
        )
    except (duckdb.OutOfMemoryException, duckdb.InterruptException):
        raise  # the machine's trouble, not the file's: the step fails and is retried
    except duckdb.Error as exc:
        raise LoadError(f"cannot be parsed: {_reading_error(exc)}") from exc
    return [r[0] for r in con.execute("describe src").fetchall()][1:]


def _loaded_as(con, table: Table, sha: str) -> str | None:
    """The file already loaded into ``table`` with this content, if any."""
    seen = con.execute(
        "select source_file from raw._load_log where table_name = ? and file_sha256 = ? limit 1",
        [table.name, sha],
    ).fetchall()
    return seen[0][0] if seen else None


def _src_frame(con, columns: list[str]) -> pd.DataFrame:
    """The file read into temp table ``src`` as the text frame GX validates (``__rownum``)."""
    return con.execute(
        "select __rownum, " + ", ".join(f"src.{_q(c)}" for c in columns) + " from src"
    ).df()


def _validate_src(con, table: Table, columns: list[str]) -> list[Violation]:
    """The table's Great Expectations suite on the file read into temp table ``src``."""
    return validate_frame(table, _src_frame(con, columns).rename(columns={"__rownum": ROW}))


# Files of one table validated together by one Great Expectations run, up to this many bytes
# (about 200 K rows of events): a run costs 0.25 s before its first row and about 4.5 µs a row
# after (measured on the demo's events), so the demo's 25 monthly event files (5-6 MB each)
# take 7 runs instead of 25. A larger file is a run of its own, as before.
GX_BATCH_BYTES = 20_000_000


class Checked:
    """The Great Expectations violations of one file, from the run that validated its batch
    (``gx_batches``): ``result()`` waits for that run."""

    def __init__(self, batch: Future, position: int):
        self._batch, self._position = batch, position

    def result(self) -> list[Violation] | None:
        return self._batch.result()[self._position]


def gx_violations(table: Table, paths: list[Path]) -> list[list[Violation] | None]:
    """The table's Great Expectations suite on each file, read exactly as the load reads it, in
    a connection of its own: one GX run for all of them (their rows numbered one after the
    other, the violations handed back per file; every rule of the suite is about one row, and
    the one about the file, its required columns, is the loader's own check before this).
    None for a file the load will reject before validating it (unreadable, a required column
    missing). Runs ahead of the load in a thread (see load_landing)."""
    out: list[list[Violation] | None] = [None] * len(paths)
    groups: dict[tuple[str, ...], list[tuple[int, pd.DataFrame]]] = {}
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set threads = 1")
        for i, path in enumerate(paths):
            try:
                columns = _read_as_text(con, path)
            except LoadError:
                continue
            if any(c.required and c.name not in columns for c in table.columns):
                continue
            groups.setdefault(tuple(columns), []).append((i, _src_frame(con, columns)))
    finally:
        con.close()
    for files in groups.values():  # files with the same columns, validated as one frame
        starts, offset = [], 0
        for i, frame in files:
            starts.append(offset)
            frame["__rownum"] += offset
            offset += len(frame)
            out[i] = []
        frame = pd.concat([f for _, f in files], ignore_index=True)
        for v in validate_frame(table, frame.rename(columns={"__rownum": ROW})):
            k = bisect.bisect_right(starts, v.row - 1) - 1
            i = files[k][0]
            out[i].append(Violation(v.row - starts[k], v.rule, v.column))
    return out


def gx_batches(queue: list[tuple[Table, Path]]) -> list[list[int]]:
    """The queue's positions in batches for gx_violations: consecutive files of one table, up
    to GX_BATCH_BYTES together."""
    batches: list[list[int]] = []
    size = 0
    for i, (table, path) in enumerate(queue):
        n = path.stat().st_size
        if not batches or queue[batches[-1][0]][0] is not table or size + n > GX_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(i)
        size += n
    return batches


def load_file(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    path: Path,
    dry_run: bool = False,
    checked: Checked | None = None,
    sha: str | None = None,
) -> FileResult:
    """Validate one landing file and load it into ``raw.<table>`` in one transaction (see the
    module doc). With ``dry_run`` the transaction is rolled back: a validation report only.
    ``checked``: its gx_violations, already started; ``sha``: its SHA-256."""
    result = FileResult(table.name, str(path), "loaded")
    sha = sha or _sha256(path)
    seen = _loaded_as(con, table, sha)
    if seen:
        result.status, result.message = "skipped", f"already loaded (same content as {seen})"
        return result
    con.execute("begin transaction")
    try:
        _load_checked(con, table, path, sha, result, checked)
        con.execute("rollback" if dry_run else "commit")
    except LoadError as exc:
        con.execute("rollback")
        result.status = "rejected"
        result.message = f"{table.name}: {path}: {exc}"
    except Exception:
        con.execute("rollback")
        raise
    return result


def _load_checked(
    con, table: Table, path: Path, sha: str, result: FileResult, checked: Checked | None
) -> None:
    columns = _read_as_text(con, path)
    present = set(columns)
    missing = [c.name for c in table.columns if c.required and c.name not in present]
    if missing:
        hint = ""
        if len(columns) == 1 and any(sep in columns[0] for sep in ";\t|"):
            hint = f" (the header is one field, {columns[0][:60]!r}: separate fields by commas)"
        raise LoadError(f"missing required column(s): {', '.join(missing)}{hint}")
    result.ignored_columns = [c for c in columns if c not in table.column_names]
    rows_in_file = con.execute("select count(*) from src").fetchall()[0][0]
    result.rows_in_file = rows_in_file
    if rows_in_file == 0:
        loaded_before = con.execute(f"select count(*) from raw.{table.name}").fetchone()[0]
        if not loaded_before:
            raise LoadError("no rows, and the table has no data yet (a required table is empty)")
    _parse_src(con, table, present)
    # A column with values none of which parse is a wrong type for the whole column.
    typed_cols = [c for c in table.columns if c.name in present and c.type != "string"]
    if typed_cols:
        # fetchall, not fetchone: DuckDB keeps a half-read result open, and registering the GX
        # findings on this connection next is refused while one is.
        counts = con.execute(
            "select "
            + ", ".join(
                f"count(*) filter (where {_q(c.name + FILLED)}), count({_q(c.name)})"
                for c in typed_cols
            )
            + " from typed"
        ).fetchall()[0]
        for i, col in enumerate(typed_cols):
            filled, parsed = counts[2 * i], counts[2 * i + 1]
            if filled and not parsed:
                raise LoadError(
                    f"column {col.name}: no value parses as {col.type} ({filled} values)"
                )
    batch_id = uuid.uuid4().hex
    _collect_violations(con, table, columns, present, checked)
    con.execute(
        """insert into raw._quarantine
        select ?, ?, ?, rule, column_name, original_row, current_timestamp::timestamp, null
        from broken""",
        [batch_id, table.name, str(path)],
    )
    cols = ", ".join([*(_q(c) for c in table.column_names), *LINEAGE_COLUMNS])
    inserted = con.execute(
        f"""insert into raw.{table.name} ({cols})
        select {", ".join(f"t.{_q(c)}" for c in table.column_names)},
            ?, current_timestamp::timestamp, ?
        from typed as t
        where not exists (select 1 from broken where broken.__rownum = t.__rownum)""",
        [str(path), batch_id],
    ).fetchone()[0]
    result.rows_loaded = inserted
    for rule, column, n, example in con.execute(
        """select rule, column_name, count(distinct __rownum), min(original_row::varchar)
        from broken group by all order by all"""
    ).fetchall():
        result.quarantine_rules[f"{column}: {rule}"] = n
        result.examples[f"{column}: {rule}"] = example
    result.rows_quarantined = con.execute("select count(distinct __rownum) from broken").fetchone()[
        0
    ]
    _mark_reloaded(con, table, batch_id)
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


def _collect_violations(
    con, table: Table, columns: list[str], present: set[str], checked: Checked | None
) -> None:
    """Temp table ``broken``: one row per (row, rule) broken, from GX's suite for the table
    and from the loader's own SQL rules, with the original row as JSON."""
    violations = checked.result() if checked is not None else None
    if violations is None:
        violations = _validate_src(con, table, columns)
    gx_found = pd.DataFrame(
        [(v.row, v.rule, v.column) for v in violations],
        columns=["__rownum", "rule", "column_name"],
    ).astype({"__rownum": "int64", "rule": "object", "column_name": "object"})
    con.register("gx_found", gx_found)
    _find_pk_conflicts(con, table, present)
    checks = ", ".join(
        f"case when {pred} then {_lit(rule + '|' + col)} end"
        for rule, col, pred in _row_rules(table, present)
    )
    original = "json_object(" + ", ".join(f"'{c}', src.{_q(c)}" for c in columns) + ")"
    con.execute(
        f"""create or replace temp table broken as
        with sql_found as (
            select __rownum, split_part(v, '|', 1) as rule, split_part(v, '|', 2) as column_name
            from (
                select __rownum, unnest(list_filter([{checks}], lambda x: x is not null)) as v
                from typed as t
            )
        ),
        found as (
            select __rownum, rule, column_name from sql_found
            union
            select __rownum, rule, column_name from gx_found
        )
        select found.__rownum, found.rule, found.column_name, {original} as original_row
        from found
        inner join src on found.__rownum = src.__rownum"""
    )
    con.unregister("gx_found")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _mark_reloaded(con, table: Table, batch_id: str) -> None:
    """Quarantined rows whose key has now loaded (a fixed re-delivery) are marked reloaded:
    by the first key column, or every key column where a key is a row's whole identity."""
    keys = table.primary_key if table.name in REPLACED_ON_REDELIVERY else table.primary_key[:1]
    quarantined = ", ".join(f"coalesce(original_row ->> '{k}', '')" for k in keys)
    loaded = ", ".join(f"coalesce(cast({_q(k)} as varchar), '')" for k in keys)
    con.execute(
        f"""update raw._quarantine set reloaded_at = current_timestamp::timestamp
        where table_name = ? and reloaded_at is null
          and ({quarantined}) in (
              select ({loaded}) from raw.{table.name} where _batch_id = ?
          )""",
        [table.name, batch_id],
    )


def landing_files(landing: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Data files per contract table, plus a note on what in the landing dir is not a table
    (one line, naming the first few)."""
    files: dict[str, list[Path]] = {}
    if not landing.is_dir():
        return files, [f"landing directory {landing} does not exist"]
    others = []
    for entry in sorted(landing.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.name not in TABLES or not entry.is_dir():
            others.append(entry.name)
            continue
        found = sorted(p for p in entry.iterdir() if p.suffix.lower() in DATA_SUFFIXES)
        if found:
            files[entry.name] = found
    if not others:
        return files, []
    named = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return files, [f"ignored in {landing}, not table folders of the contract: {named}"]


def pending_files(warehouse: Path, landing: Path) -> dict[str, list[Path]]:
    """The landing files not loaded yet (no file of the same content in ``raw._load_log``),
    per table: what the next load reads. A rejected file stays pending until it is fixed;
    while another process writes the warehouse, every file counts as pending."""
    files, _ = landing_files(landing)
    if not warehouse.exists():
        return files
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        if not locked_by_another_process(exc):
            raise
        # A run is writing the warehouse: every file counts, and the load skips what it holds.
        return files
    with con:
        logged = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = "
            "'_load_log'"
        ).fetchone()[0]
        if not logged:
            return files
        pending = {
            table: [p for p in paths if not _loaded_as(con, TABLES[table], _sha256(p))]
            for table, paths in files.items()
        }
    return {table: paths for table, paths in pending.items() if paths}


def load_landing(
    warehouse: Path,
    landing: Path,
    progress: Callable[[str], None] = print,
    dry_run: bool = False,
    tables: Collection[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[FileResult]:
    """Load every new landing file (of ``tables`` only, when given); returns one result per
    file (see ``FileResult``). ``progress`` hears of each file, ``warn`` (by default
    ``progress``) of what is not a table folder and of contract tables with no data.

    ``dry_run`` validates exactly as a load would, on a scratch copy of the warehouse (so a
    file's foreign keys see the files validated before it), and changes nothing."""
    if dry_run:
        with tempfile.TemporaryDirectory(prefix="outcomes-validate-") as scratch:
            copy = Path(scratch) / "warehouse.duckdb"
            if warehouse.exists():
                shutil.copy(warehouse, copy)
            return load_landing(copy, landing, progress, tables=tables, warn=warn)
    warn = warn or progress
    files, notes = landing_files(landing)
    for note in notes:
        warn(note)
    if tables is not None:
        files = {name: paths for name, paths in files.items() if name in tables}
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("set TimeZone = 'UTC'")
        apply_duckdb_limits(con, warehouse)
        # Each file commits on its own (the WAL makes it durable), but the checkpoint, which
        # writes the tables into the file, runs once when this connection closes instead of
        # every 16 MB of WAL (DuckDB's default): 2.2 s of the demo's 21 s load.
        con.execute("set checkpoint_threshold = '1GB'")
        ensure_raw_schema(con)
        # Contract order: referenced tables first. The Great Expectations suites (pandas, one
        # core) run in a thread, a batch of files (gx_batches) ahead of the file loading
        # (DuckDB, the other core): at the demo size the suites are half the load's time.
        queue = [(TABLES[name], path) for name in TABLES for path in files.get(name, [])]
        shas = [_sha256(path) for _, path in queue]
        todo = [i for i, (table, _) in enumerate(queue) if not _loaded_as(con, table, shas[i])]
        batches = [[todo[j] for j in batch] for batch in gx_batches([queue[i] for i in todo])]
        batch_of = {i: k for k, batch in enumerate(batches) for i in batch}
        results = []
        with ThreadPoolExecutor(max_workers=1) as ahead:
            started: dict[int, Future] = {}

            def start(k: int) -> None:
                if k < len(batches) and k not in started:
                    table = queue[batches[k][0]][0]
                    paths = [queue[i][1] for i in batches[k]]
                    started[k] = ahead.submit(gx_violations, table, paths)

            for i, (table, path) in enumerate(queue):
                checked = None
                if i in batch_of:
                    k = batch_of[i]
                    start(k)
                    start(k + 1)
                    started.pop(k - 1, None)
                    checked = Checked(started[k], batches[k].index(i))
                res = load_file(con, table, path, checked=checked, sha=shas[i])
                results.append(res)
                if res.status != "skipped":
                    progress(describe(res))
        skipped = sum(r.status == "skipped" for r in results)
        if skipped:
            progress(f"  {skipped} file(s) already loaded, skipped")
        absent = absent_tables(con)
        if absent:
            warn(
                f"warning: no data for {', '.join(absent)}: no rows from {landing}, now or before "
                "(no files there, or every file rejected or every row quarantined): the marts "
                "that read them stay empty"
            )
        return results
    finally:
        con.close()


# Usage may come as events, as daily counts or both: either one is enough.
ALTERNATIVES = {"usage_events": "usage_daily", "usage_daily": "usage_events"}


def absent_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The contract tables with no row loaded (an alternative of the table may stand in)."""
    empty = {
        name
        for name in TABLES
        if not con.execute(f"select exists (select 1 from raw.{name})").fetchone()[0]
    }
    return [t for t in TABLES if t in empty and ALTERNATIVES.get(t, t) in empty]


def describe(res: FileResult) -> str:
    name = Path(res.file).name
    if res.status == "skipped":
        return f"  skip   {res.table}/{name}: {res.message}"
    if res.status == "rejected":
        return f"  REJECT {res.message}"
    text = f"  load   {res.table}/{name}: {res.rows_loaded:,} rows"
    if res.rows_quarantined:
        rules = "; ".join(f"{k} x{v}" for k, v in res.quarantine_rules.items())
        text += f", {res.rows_quarantined:,} quarantined ({rules})"
    if res.ignored_columns:
        text += f"; ignored unknown column(s): {', '.join(res.ignored_columns)}"
    for rule, example in res.examples.items():
        text += f"\n           e.g. {rule}: {example[:160]}"
    return text
