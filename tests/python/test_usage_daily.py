"""Usage delivered as daily counts (raw table usage_daily) gives the usage marts the figures
the same activity gives as events."""

from __future__ import annotations

import duckdb
from conftest import AS_OF

from customer_outcomes.config import Settings
from customer_outcomes.dbt import run_dbt
from customer_outcomes.load import load_landing

# What the test compares: the usage marts and what is built on them, every column but the
# load time.
COMPARED = [
    "marts.fct_account_usage_daily",
    "intermediate.int_usage_events_aggregated_to_account_weeks",
    "intermediate.int_feature_adoption_weekly",
    "marts.fct_feature_usage_alerts",
    "intermediate.int_account_health_components",
    "marts.fct_account_health",
]
DAILY_COUNTS = """
    select account_id, event_date as usage_date, user_id, event_name, feature_key,
        count(*) as event_count
    from staging.stg_product__usage_events
    group by all
"""


def test_the_usage_marts_are_the_same_from_daily_counts(built, tmp_path):
    """The shared test build's events, de-duplicated and counted per account, day, user,
    event and feature, are delivered as usage_daily instead of usage_events (every other table
    as it is). The counts of one week come first wrong (doubled), then again right in a later
    file: the re-delivery replaces them. The marts built from the daily counts equal the
    shared build's, row for row."""
    landing = tmp_path / "landing"
    (landing / "usage_daily").mkdir(parents=True)
    for entry in built.landing.iterdir():
        skipped = entry.name in ("usage_events", "usage_daily") or entry.name[0] in "_."
        if entry.is_dir() and not skipped:
            (landing / entry.name).symlink_to(entry)
    week = "usage_date between date '2026-03-02' and date '2026-03-08'"
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        con.execute(
            f"copy ({DAILY_COUNTS}) to '{landing}/usage_daily/a_all.parquet' (format parquet)"
        )
        doubled = f"select * replace (2 * event_count as event_count) from ({DAILY_COUNTS})"
        con.execute(
            f"copy ({doubled} where {week}) to '{landing}/usage_daily/0_wrong.parquet' "
            "(format parquet)"
        )
        con.execute(
            f"copy (select * from ({DAILY_COUNTS}) where {week}) "
            f"to '{landing}/usage_daily/b_fixed.parquet' (format parquet)"
        )
        events = con.execute("select count(*) from staging.stg_product__usage_events").fetchone()
    settings = Settings(
        landing=landing, warehouse=tmp_path / "daily.duckdb", serve=tmp_path / "serve.duckdb"
    )
    results = load_landing(settings.warehouse, landing, progress=lambda _: None)
    daily = [r for r in results if r.table == "usage_daily"]
    assert [(r.status, r.rows_quarantined) for r in daily] == [("loaded", 0)] * 3
    select = " ".join(f"+{relation.split('.')[1]}" for relation in COMPARED)
    code = run_dbt(
        settings,
        [
            "build",
            "--select",
            select,
            "--indirect-selection",
            "cautious",
            "--exclude-resource-type",
            "unit_test",
        ],
        as_of=AS_OF,
        echo=False,
    )
    assert code == 0, "dbt build from the daily counts failed"
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        con.execute(f"attach '{built.warehouse}' as events (read_only)")
        assert con.execute("select count(*) from raw.usage_events").fetchone()[0] == 0
        assert con.execute("select sum(event_count) from raw.usage_daily").fetchone()[0] > events[0]
        for relation in COMPARED:
            columns = [
                r[0]
                for r in con.execute(f"describe {relation}").fetchall()
                if r[0] != "last_loaded_at"
            ]
            listed = ", ".join(columns)
            rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
            assert rows > 0, relation
            for a, b in ((relation, f"events.{relation}"), (f"events.{relation}", relation)):
                differing = con.execute(
                    f"select count(*) from (select {listed} from {a} except all "
                    f"select {listed} from {b})"
                ).fetchone()[0]
                assert differing == 0, f"{relation}: {differing} rows of {a} not in {b}"
