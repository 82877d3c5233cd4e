"""Six days of a daily refresh on the demo data, for test_daily_refresh.py.

Day 0 builds everything; then: new events with late ones for the two days before; nothing new
(only the date moves); a new contract, a cancellation, a new product-measured goal whose first
weeks lie before the incremental window, and goal measurements; a batch with a rejected file
and quarantined rows; a run killed (SIGKILL) in the middle of dbt; the day after. At the end
every table of the marts (and of intermediate and staging) must equal a build of the same
landing files from scratch as of the same date, row for row, but for the load times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from customer_outcomes.config import Settings
from customer_outcomes.demo import DemoSpec
from customer_outcomes.demo.days import write_account_changes, write_bad_batch, write_events
from customer_outcomes.publish import marts_hash

SPEC = DemoSpec(accounts=40, days=150, seed=5, end_date=date(2026, 6, 30))
DAY0 = SPEC.end_date
KILLED_DAY = 5
LAST_DAY = 6
# Columns that hold when a row was loaded or built, not what it says.
LOAD_TIME_COLUMNS = {"loaded_at", "last_loaded_at", "goal_loaded_at"}


def as_of(day: int) -> str:
    return (DAY0 + timedelta(days=day)).isoformat()


@dataclass(frozen=True)
class Delivery:
    rejected: str | None = None
    events: int = 0  # the day's events written (the bad batch's orphans aside)


def deliver(settings: Settings, day: int) -> Delivery:
    """Write day ``day``'s landing files (day 0 is the generated data set)."""
    when = DAY0 + timedelta(days=day)
    if day == 2:
        return Delivery()  # nothing new: only the date moves
    events = write_events(settings.warehouse, settings.landing, when)
    if day == 3:
        write_account_changes(settings.warehouse, settings.landing, when)
    if day == 4:
        bad = write_bad_batch(settings.warehouse, settings.landing, when)
        return Delivery(rejected=bad["rejected"], events=events)
    return Delivery(events=events)


def serve_state(serve: Path) -> tuple[str, set[str]]:
    """The serve file's content hash and tables; it must open, whatever happened."""
    with duckdb.connect(str(serve), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        return marts_hash(con), tables


def kill_in_dbt(cmd: list[str], env: dict[str, str], log: Path) -> None:
    """Run ``cmd`` (an `outcomes run`) and kill its whole process group with SIGKILL once dbt
    has started building, as a machine that dies would."""
    cmd = [*cmd, "--verbose"]  # dbt's log on stdout, to see it start
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 300
        while " START " not in log.read_text():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "dbt did not start"
            time.sleep(0.2)
        time.sleep(2)  # in the middle of dbt build
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def outcomes_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "customer_outcomes.cli", *args]


def differences(
    built: Path, reference: Path, schemas: tuple[str, ...] = ("marts", "intermediate", "staging")
) -> list[str]:
    """Tables of ``schemas`` whose rows differ between two DuckDB files (load times aside);
    empty when they are equal."""
    found = []
    with duckdb.connect() as con:
        con.execute(f"attach '{built}' as a (read_only)")
        con.execute(f"attach '{reference}' as b (read_only)")
        tables = con.execute(
            """select schema_name, table_name from duckdb_tables()
            where database_name = 'b' and schema_name in (select unnest(?))
                and not starts_with(table_name, '_')
            order by all""",
            [list(schemas)],
        ).fetchall()
        assert len(tables) >= 17
        for schema, table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    """select column_name from duckdb_columns()
                    where database_name = 'b' and schema_name = ? and table_name = ?""",
                    [schema, table],
                ).fetchall()
                if r[0] not in LOAD_TIME_COLUMNS
            ]
            cols = ", ".join(f'"{c}"' for c in columns)
            a, b = f"a.{schema}.{table}", f"b.{schema}.{table}"
            differing = con.execute(
                f"""select count(*) from (
                    (select {cols} from {a} except all select {cols} from {b})
                    union all
                    (select {cols} from {b} except all select {cols} from {a}))"""
            ).fetchone()[0]
            if differing:
                found.append(f"{schema}.{table}: {differing} rows differ")
    return found
