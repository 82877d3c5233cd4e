"""The next day of the demo data, as landing files: what a daily delivery brings.

Built from the warehouse's raw tables (so it follows on from whatever was loaded): the last
day's events again one day later with new ids, plus a share of the events of the days before
delivered late; optionally a new contract, a cancellation, a new product-measured goal and new
goal measurements; and a batch with a rejected file and rows the loader quarantines. The tests
of the daily refresh and the benchmark drop these files into a landing directory.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def last_event_day(warehouse: Path) -> date | None:
    """The day of the newest event loaded (None without events)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sql = "select max(cast(occurred_at as date)) from raw.usage_events"
        return con.execute(sql).fetchone()[0]


def write_events(
    warehouse: Path, landing: Path, day: date, late_days: int = 2, late_share: float = 0.05
) -> int:
    """usage_events/<day>.csv: the events of the last loaded day moved to ``day`` (new ids;
    each day's ids are its own), plus ``late_share`` of the events of the ``late_days`` days
    before ``day`` again under new ids, received on ``day``. Returns its row count."""
    last = last_event_day(warehouse)
    shift = (day - last).days
    out = landing / "usage_events" / f"usage_events_{day:%Y_%m_%d}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            f"""copy (
                select
                    'd{day:%Y%m%d}-' || event_id as event_id, account_id, user_id, event_name,
                    feature_key, occurred_at + interval {shift} day as occurred_at,
                    received_at + interval {shift} day as received_at
                from raw.usage_events
                where cast(occurred_at as date) = date '{last}'
                union all
                select
                    'late{day:%Y%m%d}-' || event_id, account_id, user_id, event_name,
                    feature_key, occurred_at, timestamp '{day} 23:00:00'
                from raw.usage_events
                where cast(occurred_at as date) between date '{day}' - {late_days}
                    and date '{day}' - 1
                    and hash(event_id) % 10000 < {int(late_share * 10000)}
            ) to {_lit(out)} (header, delimiter ',')"""
        )
        return con.execute(f"select count(*) from read_csv({_lit(out)})").fetchone()[0]


def write_account_changes(warehouse: Path, landing: Path, day: date) -> dict[str, int]:
    """A new contract (an account's latest contract again, starting on ``day``), the
    cancellation of another account's open contract taking effect on ``day``, a new
    product-measured goal set on ``day`` with its baseline ten weeks earlier (so its first
    weeks lie before an incremental run's window), and a new measurement of every active goal
    of a few accounts, measured and recorded on ``day``."""
    counts = {}
    stamp = f"{day:%Y%m%d}"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        queries = {
            "contracts": f"""
                select 'c{stamp}' as contract_id, account_id, plan,
                    date '{day}' as start_date, date '{day}' + 364 as end_date,
                    arr + 1200 as arr, seats + 2 as seats, timestamp '{day} 09:00:00' as signed_at
                from raw.contracts
                order by start_date desc, contract_id
                limit 1""",
            "cancellations": f"""
                select 'x{stamp}' as cancellation_id, contract_id, account_id,
                    timestamp '{day} 10:00:00' as cancelled_at, date '{day}' as effective_date,
                    'budget' as reason_code, 'external' as reason_category
                from raw.contracts
                where end_date is null
                    and contract_id not in (select contract_id from raw.cancellations)
                    and start_date < date '{day}'
                order by contract_id
                limit 1""",
            "customer_goals": f"""
                select 'gol_new_{stamp}' as goal_id, account_id, title, outcome_category,
                    kpi_name, kpi_unit, baseline_value, target_value,
                    date '{day}' - 70 as baseline_date, date '{day}' + 180 as target_date,
                    weight, 'active' as status, kpi_source, product_metric,
                    customer_confirmed_outcome, timestamp '{day} 11:00:00' as created_at,
                    timestamp '{day} 11:00:00' as updated_at
                from raw.customer_goals
                where kpi_source = 'product' and status = 'active'
                order by goal_id
                limit 1""",
            "goal_measurements": f"""
                select 'm{stamp}-' || goal_id as measurement_id, goal_id,
                    date '{day}' as measured_on,
                    round(baseline_value + (target_value - baseline_value) * 0.6, 2) as value,
                    'customer_reported' as source, timestamp '{day} 12:00:00' as recorded_at
                from raw.customer_goals
                where status = 'active' and account_id in (
                    select distinct account_id from raw.customer_goals
                    where status = 'active' order by account_id limit 3
                )""",
        }
        for table, sql in queries.items():
            out = landing / table / f"{table}_{day:%Y_%m_%d}.csv"
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy ({sql}) to {_lit(out)} (header, delimiter ',')")
            counts[table] = con.execute(f"select count(*) from read_csv({_lit(out)})").fetchone()[0]
    return counts


def write_bad_batch(warehouse: Path, landing: Path, day: date) -> dict[str, str]:
    """An NPS file without its required `score` column (the loader rejects it whole) and
    events of which two name an account that does not exist (quarantined; the rest load).
    Returns the two files."""
    nps = landing / "nps_responses" / f"nps_responses_{day:%Y_%m_%d}.csv"
    nps.parent.mkdir(parents=True, exist_ok=True)
    nps.write_text(
        "response_id,account_id,user_id,comment,responded_at\n"
        f"bad{day:%Y%m%d},unknown,,no score column,{day}T10:00:00Z\n"
    )
    events = landing / "usage_events" / f"usage_events_{day:%Y_%m_%d}_orphans.csv"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            f"""copy (
                select
                    'orphan{day:%Y%m%d}-' || event_id as event_id,
                    case when row_number() over (order by event_id) <= 2
                        then 'no-such-account' else account_id end as account_id,
                    user_id, event_name, feature_key,
                    timestamp '{day} 08:00:00' as occurred_at,
                    timestamp '{day} 08:05:00' as received_at
                from raw.usage_events
                order by event_id
                limit 10
            ) to {_lit(events)} (header, delimiter ',')"""
        )
    return {"rejected": str(nps), "quarantined": str(events)}
