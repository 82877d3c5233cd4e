"""The loader: append-only, idempotent, contract-checked, and it never loses a row."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import another_writer

from customer_outcomes.cli import main
from customer_outcomes.contract import TABLES
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.load import (
    GX_BATCH_BYTES,
    gx_batches,
    gx_violations,
    landing_files,
    load_landing,
    pending_files,
)

QUIET = {"progress": lambda _: None}


def _counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny_landing")
    generate(DemoSpec(accounts=12, days=90, seed=12, end_date=date(2026, 5, 31)), out, **QUIET)
    return out


@pytest.fixture
def landing(tmp_path, tiny_landing) -> Path:
    """A private copy of a tiny landing data set."""
    out = tmp_path / "landing"
    shutil.copytree(tiny_landing, out)
    return out


def _write(landing: Path, table: str, name: str, text: str) -> Path:
    path = landing / table / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loading_the_same_directory_twice_adds_nothing(tmp_path, landing):
    wh = tmp_path / "wh.duckdb"
    first = load_landing(wh, landing, **QUIET)
    before = _counts(wh)
    assert all(r.status == "loaded" for r in first)
    # Row conservation, file by file: every row is loaded or quarantined.
    assert all(r.rows_loaded + r.rows_quarantined == r.rows_in_file > 0 for r in first)
    # every table but usage_daily: the demo delivers its usage as events
    assert all(before[t] > 0 for t in TABLES if t != "usage_daily")
    second = load_landing(wh, landing, **QUIET)
    assert {r.status for r in second} == {"skipped"}
    assert _counts(wh) == before


def test_every_raw_row_names_its_file_and_load_time(tmp_path, landing):
    wh = tmp_path / "wh.duckdb"
    load_landing(wh, landing, **QUIET)
    con = duckdb.connect(str(wh), read_only=True)
    for table in TABLES:
        missing = con.execute(
            f"select count(*) from raw.{table} where _source_file is null or _loaded_at is null"
        ).fetchone()[0]
        assert missing == 0
    files = {r[0] for r in con.execute("select distinct _source_file from raw.accounts").fetchall()}
    assert {Path(f).name for f in files} == {"accounts_initial.csv", "accounts_updates.csv"}
    con.close()


def test_missing_required_column_rejects_the_file_and_keeps_earlier_data(tmp_path, landing, capsys):
    wh = tmp_path / "wh.duckdb"
    assert main(["load", "--landing", str(landing), "--warehouse", str(wh)]) == 0
    before = _counts(wh)
    _write(
        landing,
        "nps_responses",
        "nps_late_batch.csv",
        "response_id,account_id,user_id,comment,responded_at\n"
        "nps_x1,acc_00001,,fine,2026-06-01T10:00:00Z\n",
    )
    code = main(["load", "--landing", str(landing), "--warehouse", str(wh)])
    out = capsys.readouterr().out
    assert code != 0
    assert "nps_responses" in out and "nps_late_batch.csv" in out and "score" in out
    assert _counts(wh) == before
    con = duckdb.connect(str(wh), read_only=True)
    logged = con.execute(
        "select count(*) from raw._load_log where source_file like '%nps_late_batch%'"
    ).fetchone()[0]
    con.close()
    assert logged == 0


def test_unparseable_file_is_rejected_whole(tmp_path, landing):
    wh = tmp_path / "wh.duckdb"
    _write(
        landing,
        "csat_responses",
        "broken.csv",
        "response_id,account_id,user_id,score,touchpoint,responded_at\n"
        "c1,acc_00001,,5,support,2026-01-01T00:00:00Z\n"
        'c2,acc_00001,,4,"support,2026-01-02T00:00:00Z,extra,fields\n',
    )
    results = load_landing(wh, landing, **QUIET)
    bad = [r for r in results if r.file.endswith("broken.csv")]
    assert bad[0].status == "rejected"
    assert "cannot be parsed" in bad[0].message and "csat_responses" in bad[0].message
    con = duckdb.connect(str(wh), read_only=True)
    assert (
        con.execute("select count(*) from raw.csat_responses where response_id = 'c1'").fetchone()[
            0
        ]
        == 0
    )
    con.close()


def test_a_column_of_the_wrong_type_rejects_the_file(tmp_path, landing):
    wh = tmp_path / "wh.duckdb"
    _write(
        landing,
        "contracts",
        "zz_bad_types.csv",
        "contract_id,account_id,plan,start_date,end_date,arr,seats,signed_at\n"
        "x1,acc_00001,team,2026-01-01,,lots,3,2026-01-01T00:00:00Z\n"
        "x2,acc_00001,team,2026-01-01,,many,3,2026-01-01T00:00:00Z\n",
    )
    results = load_landing(wh, landing, **QUIET)
    bad = next(r for r in results if r.file.endswith("zz_bad_types.csv"))
    assert bad.status == "rejected"
    assert "column arr" in bad.message and "decimal" in bad.message


def test_bad_rows_are_quarantined_with_their_reason_and_the_rest_load(tmp_path, landing):
    wh = tmp_path / "wh.duckdb"
    _write(
        landing,
        "nps_responses",
        "zz_mixed.csv",
        "response_id,account_id,user_id,score,comment,responded_at,survey_channel\n"
        "ok1,acc_00001,,9,,2026-06-01T10:00:00Z,email\n"
        "bad1,acc_00001,,11,,2026-06-01T10:00:00Z,email\n"
        "bad2,acc_00001,,7.5,,2026-06-01T10:00:00Z,email\n"
        "bad3,acc_00001,,8,,yesterday,email\n",
    )
    results = load_landing(wh, landing, **QUIET)
    res = next(r for r in results if r.file.endswith("zz_mixed.csv"))
    assert res.status == "loaded"
    assert (res.rows_loaded, res.rows_quarantined) == (1, 3)
    assert res.ignored_columns == ["survey_channel"]
    con = duckdb.connect(str(wh), read_only=True)
    rows = con.execute(
        """select original_row ->> 'response_id', rule, column_name from raw._quarantine
        where source_file like '%zz_mixed.csv' order by 1"""
    ).fetchall()
    con.close()
    assert rows == [
        ("bad1", "range: 0 to 10", "score"),
        ("bad2", "type: not a valid integer", "score"),
        ("bad3", "type: not a valid timestamp", "responded_at"),
    ]


def test_a_product_goal_must_name_a_metric_and_feature_of_the_catalogue(tmp_path, landing):
    """kpi_source = product needs product_metric, a metric of seeds/product_metrics.csv, with a
    feature of features when the metric takes one (and only then); manual goals and an empty
    kpi_source (manual) need none."""
    wh = tmp_path / "wh.duckdb"
    goal = "{id},acc_00001,t,productivity,k,users,3,6,2026-03-01,2026-06-30,1,active,{src},{m},,"
    stamp = "2026-03-01T09:00:00Z,2026-03-01T09:00:00Z\n"
    header = ",".join(TABLES["customer_goals"].column_names) + "\n"
    rows = [
        ("ok_wau", "product", "weekly_active_users"),
        ("ok_feat", "product", "weekly_feature_events:dashboards"),
        ("ok_manual", "manual", ""),
        ("ok_empty", "", ""),
        ("no_metric", "product", ""),
        ("unknown", "product", "weekly_happiness"),
        ("no_feature", "product", "weekly_feature_events"),
        ("extra_feature", "product", "weekly_active_users:dashboards"),
        ("bad_feature", "product", "weekly_feature_events:reportz"),
    ]
    text = header + "".join(goal.format(id=i, src=s, m=m) + stamp for i, s, m in rows)
    _write(landing, "customer_goals", "zz_product.csv", text)
    results = load_landing(wh, landing, **QUIET)
    res = next(r for r in results if r.file.endswith("zz_product.csv"))
    con = duckdb.connect(str(wh), read_only=True)
    quarantined = con.execute(
        """select original_row ->> 'goal_id', rule, column_name from raw._quarantine
        where source_file like '%zz_product.csv' order by 1"""
    ).fetchall()
    con.close()
    catalogue = "product metric: not in the catalogue (seeds/product_metrics.csv)"
    assert quarantined == [
        ("bad_feature", "product metric: no features.feature_key", "product_metric"),
        ("extra_feature", catalogue, "product_metric"),
        ("no_feature", catalogue, "product_metric"),
        ("no_metric", "not null when kpi_source = product", "product_metric"),
        ("unknown", catalogue, "product_metric"),
    ]
    assert (res.rows_loaded, res.rows_quarantined) == (4, 5)


NPS_HEADER = "response_id,account_id,user_id,score,comment,responded_at\n"


def test_files_validated_in_one_gx_run_get_their_own_violations(tmp_path):
    """gx_violations validates several files in one run: each violation comes back to its
    file, with the row number within that file."""
    ok = "ok{n},acc_00001,,9,,2026-06-01T10:00:00Z\n"
    files = {
        "a.csv": NPS_HEADER + ok.format(n=1) + ok.format(n=2),
        "b.csv": NPS_HEADER
        + ok.format(n=3)
        + "bad1,acc_00001,,11,,2026-06-01T10:00:00Z\n"
        + ok.format(n=4)
        + "bad2,acc_00001,,-1,,2026-06-01T10:00:00Z\n",
        "c.csv": "response_id,account_id\nx,acc_00001\n",  # no score: the loader rejects it
        "d.csv": NPS_HEADER + "bad3,acc_00001,,12,,2026-06-01T10:00:00Z\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = gx_violations(TABLES["nps_responses"], [tmp_path / name for name in files])
    assert [
        sorted((v.row, v.rule, v.column) for v in f) if f is not None else None for f in found
    ] == [
        [],
        [(2, "range: 0 to 10", "score"), (4, "range: 0 to 10", "score")],
        None,
        [(1, "range: 0 to 10", "score")],
    ]


def test_gx_batches_keep_to_one_table_and_a_size(tmp_path):
    paths = []
    for name, size in [("a", 10), ("b", GX_BATCH_BYTES - 20), ("c", 30), ("d", 5)]:
        paths.append(tmp_path / f"{name}.csv")
        paths[-1].write_bytes(b"x" * size)
    events, nps = TABLES["usage_events"], TABLES["nps_responses"]
    queue = [(events, paths[0]), (events, paths[1]), (events, paths[2]), (nps, paths[3])]
    assert gx_batches(queue) == [[0, 1], [2], [3]]


def test_what_is_not_a_table_folder_is_named_in_one_line(tmp_path):
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "a.csv").write_text("account_id\n")
    for name in ("notes.txt", "old", "b", "c", "d", "e", "f"):
        (tmp_path / name).touch()
    (tmp_path / ".hidden").touch()
    files, notes = landing_files(tmp_path)
    assert files == {"accounts": [tmp_path / "accounts" / "a.csv"]}
    assert notes == [
        f"ignored in {tmp_path}, not table folders of the contract: b, c, d, e, f and 2 more"
    ]
    assert landing_files(tmp_path / "accounts") == (
        {},
        [f"ignored in {tmp_path / 'accounts'}, not table folders of the contract: a.csv"],
    )


def test_pending_files_are_those_a_load_would_read(tmp_path, landing):
    """What the daily plan selects: files not loaded yet, per table; a rejected file stays
    pending; a load of chosen tables leaves the others' files pending."""
    wh = tmp_path / "wh.duckdb"
    everything = pending_files(wh, landing)  # no warehouse yet
    assert everything == landing_files(landing)[0]
    load_landing(wh, landing, progress=lambda _: None, tables=["accounts", "features"])
    assert set(pending_files(wh, landing)) == set(everything) - {"accounts", "features"}
    load_landing(wh, landing, progress=lambda _: None)
    assert pending_files(wh, landing) == {}
    more = "feature_key,feature_name,module,is_core,released_on\nf_new,New,core,false,2026-05-01\n"
    _write(landing, "features", "zz_more.csv", more)
    _write(landing, "nps_responses", "zz_broken.csv", "response_id,account_id\nx,acc_1\n")
    pending = pending_files(wh, landing)
    assert {t: [p.name for p in paths] for t, paths in pending.items()} == {
        "features": ["zz_more.csv"],
        "nps_responses": ["zz_broken.csv"],
    }
    results = load_landing(wh, landing, progress=lambda _: None)
    assert {r.status for r in results if r.status != "skipped"} == {"loaded", "rejected"}
    assert {t: [p.name for p in paths] for t, paths in pending_files(wh, landing).items()} == {
        "nps_responses": ["zz_broken.csv"]
    }
    # While another process writes the warehouse (a run in progress when the schedule ticks),
    # every file counts: the plan errs on the side of building, and the load skips what it has.
    with another_writer(wh):
        assert pending_files(wh, landing) == landing_files(landing)[0]


def test_missing_optional_column_loads_as_null(tmp_path, landing):
    wh = tmp_path / "wh.duckdb"
    _write(
        landing,
        "renewal_intents",
        "zz_no_notes.csv",
        "checkin_id,account_id,contract_id,asked_on,answer\nchk_x,acc_00001,,2026-05-01,yes\n",
    )
    load_landing(wh, landing, **QUIET)
    con = duckdb.connect(str(wh), read_only=True)
    row = con.execute(
        "select answer, notes from raw.renewal_intents where checkin_id = 'chk_x'"
    ).fetchone()
    con.close()
    assert row == ("yes", None)


def test_parquet_files_load_like_csv(tmp_path, landing):
    """Whatever the case of the file's suffix (an export may write .PARQUET)."""
    wh = tmp_path / "wh.duckdb"
    src = landing / "features" / "features.csv"
    con = duckdb.connect()
    con.execute(
        f"copy (select * from read_csv('{src}', all_varchar = true)) "
        f"to '{landing / 'features' / 'features_copy.PARQUET'}' (format parquet)"
    )
    con.close()
    results = load_landing(wh, landing, **QUIET)
    parquet = next(r for r in results if r.file.endswith(".PARQUET"))
    assert (
        parquet.status == "loaded" and parquet.rows_loaded == len(src.read_text().splitlines()) - 1
    )


ACTIVITY_HEADER = "activity_id,account_id,play_key,trigger_type,owner,opened_at,closed_at,outcome\n"


def test_an_activity_delivered_open_then_closed_is_an_update(tmp_path, landing):
    """A play is exported while open, then again once closed: the second delivery loads (no
    key conflict) and staging keeps the closed one. Another opening time for the same id is a
    conflict; a closing before the opening and an unknown outcome are quarantined."""
    wh = tmp_path / "wh.duckdb"
    _write(
        landing,
        "cs_activities",
        "zz_open.csv",
        ACTIVITY_HEADER + "a1,acc_00001,renewal_rescue,intent_negative,cs@vendor.example,"
        "2026-05-01T10:00:00Z,,\n",
    )
    load_landing(wh, landing, **QUIET)
    _write(
        landing,
        "cs_activities",
        "zz_closed.csv",
        ACTIVITY_HEADER + "a1,acc_00001,renewal_rescue,intent_negative,cs@vendor.example,"
        "2026-05-01T10:00:00Z,2026-05-20T10:00:00Z,completed\n"
        + "a2,acc_00001,renewal_rescue,intent_negative,,2026-05-02T10:00:00Z,"
        "2026-05-01T10:00:00Z,completed\n"
        + "a3,acc_00001,success_plan,,,2026-05-02T10:00:00Z,2026-05-03T10:00:00Z,done\n",
    )
    _write(
        landing,
        "cs_activities",
        "zz_reopened.csv",
        ACTIVITY_HEADER + "a1,acc_00001,renewal_rescue,intent_negative,cs@vendor.example,"
        "2026-05-02T10:00:00Z,,\n",
    )
    results = {r.file.rsplit("/", 1)[-1]: r for r in load_landing(wh, landing, **QUIET)}
    assert (results["zz_closed.csv"].rows_loaded, results["zz_closed.csv"].rows_quarantined) == (
        1,
        2,
    )
    assert results["zz_reopened.csv"].rows_quarantined == 1
    con = duckdb.connect(str(wh), read_only=True)
    rules = con.execute(
        """select original_row ->> 'activity_id', column_name from raw._quarantine
        where table_name = 'cs_activities' order by 1"""
    ).fetchall()
    con.close()
    assert rules == [("a1", "activity_id"), ("a2", "closed_at"), ("a3", "outcome")]


DAILY_HEADER = "account_id,usage_date,user_id,event_name,feature_key,event_count\n"


def test_a_redelivered_daily_count_replaces_the_loaded_one(tmp_path, landing):
    """usage_daily: a key (account, day, user, event, feature; user and feature may be empty)
    delivered again in a later file loads and is the one staging keeps (latest load); the same
    key twice in one file with other counts is a conflict, both rows quarantined; a count
    below 1, a feature use without a feature and an unknown account are quarantined."""
    wh = tmp_path / "wh.duckdb"
    load_landing(wh, landing, **QUIET)
    con = duckdb.connect(str(wh), read_only=True)
    user = con.execute("select min(user_id) from raw.users where account_id = 'acc_00001'")
    user = user.fetchone()[0]
    con.close()
    day = "acc_00001,2026-05-{d},{u},{e},{f},{n}\n"
    (landing / "usage_daily").mkdir()
    _write(
        landing,
        "usage_daily",
        "d1.csv",
        DAILY_HEADER
        + day.format(d=10, u=user, e="session_start", f="", n=3)
        + day.format(d=10, u="", e="feature_used", f="dashboards", n=5)
        + day.format(d=11, u=user, e="feature_used", f="", n=2)
        + day.format(d=11, u=user, e="session_start", f="", n=0)
        + "acc_99999,2026-05-11,,session_start,,1\n"
        + day.format(d=12, u=user, e="session_start", f="", n=4)
        + day.format(d=12, u=user, e="session_start", f="", n=5),
    )
    load_landing(wh, landing, **QUIET)
    _write(
        landing,
        "usage_daily",
        "d2.csv",
        DAILY_HEADER + day.format(d=10, u=user, e="session_start", f="", n=7),
    )
    [second] = [r for r in load_landing(wh, landing, **QUIET) if r.status == "loaded"]
    assert (second.rows_loaded, second.rows_quarantined) == (1, 0)
    con = duckdb.connect(str(wh), read_only=True)
    quarantined = con.execute(
        """select original_row ->> 'usage_date', original_row ->> 'event_count', rule, column_name
        from raw._quarantine where table_name = 'usage_daily' order by all"""
    ).fetchall()
    latest = con.execute(
        """select usage_date::varchar, user_id is null, event_count from raw.usage_daily
        qualify row_number() over (
            partition by account_id, usage_date, user_id, event_name, feature_key
            order by _loaded_at desc) = 1
        order by all"""
    ).fetchall()
    con.close()
    key = "account_id,usage_date,user_id,event_name,feature_key"
    assert quarantined == [
        ("2026-05-11", "0", "range: at least 1", "event_count"),
        ("2026-05-11", "1", "foreign key: no accounts.account_id", "account_id"),
        ("2026-05-11", "2", "not null when event_name = feature_used", "feature_key"),
        ("2026-05-12", "4", "primary key: same key, other content", key),
        ("2026-05-12", "5", "primary key: same key, other content", key),
    ]
    assert latest == [("2026-05-10", False, 7), ("2026-05-10", True, 5)]


def _no_data(missing: list[str], landing: Path) -> str:
    return (
        f"warning: no data for {', '.join(missing)}: no rows from {landing}, now or before "
        "(no files there, or every file rejected or every row quarantined): the marts that "
        "read them stay empty"
    )


def test_a_warning_names_the_contract_tables_without_data(tmp_path, landing):
    """A load says which contract tables have no data at all (no files now, nothing loaded
    before); usage_daily needs none when usage_events has rows, and the other way round."""
    partial = tmp_path / "partial"
    for table in ("accounts", "features"):
        shutil.copytree(landing / table, partial / table)
    wh = tmp_path / "wh.duckdb"
    said: list[str] = []
    load_landing(wh, partial, progress=said.append)
    missing = [t for t in TABLES if t not in ("accounts", "features")]
    assert [m for m in said if m.startswith("warning")] == [_no_data(missing, partial)]
    said.clear()
    load_landing(wh, landing, progress=said.append)
    assert not [m for m in said if m.startswith("warning")]
    # With a warn callback of their own, the warnings (and a stray entry) go there only.
    (partial / "acounts").mkdir()
    said.clear()
    warned: list[str] = []
    load_landing(tmp_path / "wh2.duckdb", partial, progress=said.append, warn=warned.append)
    assert warned == [
        f"ignored in {partial}, not table folders of the contract: acounts",
        _no_data(missing, partial),
    ]
    assert not [m for m in said if m.startswith(("warning", "ignored"))] and said


def test_the_refresh_job_keeps_that_warning_and_outcomes_run_prints_it(
    tmp_path, landing, monkeypatch
):
    """In the Dagster job the warning is logged at WARNING, which the project's instance keeps
    (dagster.yaml keeps nothing below), and the report `outcomes run` prints has it, under
    what the load did."""
    from customer_outcomes.cli import dagster_instance, run_report
    from customer_outcomes.defs import build_definitions
    from customer_outcomes.plan import landing_key

    partial = tmp_path / "partial"
    shutil.copytree(landing / "accounts", partial / "accounts")
    files = len(list(partial.glob("accounts/*.csv")))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    wh, serve = tmp_path / "wh.duckdb", tmp_path / "serve.duckdb"
    defs = build_definitions(landing=str(partial), warehouse=str(wh), serve=str(serve))
    instance = dagster_instance()
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=instance, asset_selection=[landing_key("accounts")]
    )
    report = run_report(instance, result, tmp_path)
    rows = _counts(wh)["accounts"]
    assert rows > 0
    missing = [t for t in TABLES if t != "accounts"]
    assert report[1:] == [
        f"    load: {files} file(s), {rows:,} rows loaded, 0 quarantined, 0 file(s) rejected",
        f"  {_no_data(missing, partial)}",
    ]
    assert report[0].startswith("  landing_tables: success in ")


def test_quarantine_export_says_where_the_rows_came_from(tmp_path, landing, capsys):
    """`outcomes quarantine --export` writes the table's quarantined rows with the contract's
    columns and says to put the fixed file back in the folder they came from, not in the
    default landing folder."""
    from customer_outcomes.cli import main

    wh = tmp_path / "wh.duckdb"
    _write(landing, "nps_responses", "zz_bad.csv", NPS_HEADER + "bad,acc_00001,,11,,2026-05-01\n")
    load_landing(wh, landing, **QUIET)
    out = tmp_path / "fix.csv"
    args = ["quarantine", "--table", "nps_responses", "--export", str(out), "--warehouse", str(wh)]
    assert main([*args, "--landing", str(tmp_path / "elsewhere")]) == 0
    said = capsys.readouterr().out
    assert f"put the file in {landing / 'nps_responses'}/ to load them" in said
    assert out.read_text().splitlines()[0] == ",".join(TABLES["nps_responses"].column_names)
    assert "bad,acc_00001" in out.read_text()


def test_quarantine_counts_each_row_once_and_shows_an_example(tmp_path, landing, capsys):
    """`outcomes quarantine` counts a row once under each rule it breaks and once in the total,
    however often it was delivered; `--table` lists that table only, with an example row per
    rule; an export with nothing to fix writes no file."""
    from customer_outcomes.cli import main

    wh = tmp_path / "wh.duckdb"
    bad = "bad,acc_00001,,11,,2026-05-01\n"  # score out of range
    worse = "worse,acc_99999,,12,,2026-05-01\n"  # and an unknown account
    _write(landing, "nps_responses", "zz_bad.csv", NPS_HEADER + bad + worse)
    load_landing(wh, landing, **QUIET)
    # The same broken row again, in another file: still one row to fix.
    _write(landing, "nps_responses", "zz_bad_again.csv", NPS_HEADER + bad)
    load_landing(wh, landing, **QUIET)
    capsys.readouterr()
    assert main(["quarantine", "--warehouse", str(wh)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "  nps_responses.account_id: foreign key: no accounts.account_id: 1 row(s)",
        "  nps_responses.score: range: 0 to 10: 2 row(s)",
        "2 quarantined row(s) awaiting a fix",
    ]
    assert main(["quarantine", "--warehouse", str(wh), "--table", "nps_responses"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[1].startswith('    e.g. {"response_id":"worse","account_id":"acc_99999"')
    assert said[3].startswith('    e.g. {"response_id":"bad"') and len(said) == 5
    out = tmp_path / "none.csv"
    args = ["quarantine", "--table", "csat_responses", "--export", str(out), "--warehouse", str(wh)]
    assert main(args) == 0
    assert (
        capsys.readouterr().out
        == "no quarantined csat_responses rows awaiting a fix: nothing written\n"
    )
    assert not out.exists()
    missing = tmp_path / "nowhere.duckdb"
    assert main(["quarantine", "--warehouse", str(missing)]) == 2
    assert (
        f"warehouse {missing} does not exist: run `outcomes run` first" in capsys.readouterr().err
    )
