"""The bad-input catalogue: every way a landing file can be wrong, and exactly what happens.

Each case starts from a warehouse already loaded with good data, drops one file into an
otherwise empty landing directory, loads it, and checks the exact outcome (rejected with which
message, or which rows quarantined under which rule), that the file's other rows loaded, and
that every table other than the one loaded is untouched.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from customer_outcomes.contract import TABLES
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.load import load_landing

QUIET = {"progress": lambda _: None}
NPS = "response_id,account_id,user_id,score,comment,responded_at\n"
CSAT = "response_id,account_id,user_id,score,touchpoint,responded_at\n"
EVENTS = "event_id,account_id,user_id,event_name,feature_key,occurred_at,received_at\n"
CONTRACTS = "contract_id,account_id,plan,start_date,end_date,arr,seats,signed_at\n"
ACCOUNTS = "account_id,account_name,segment,industry,region,csm_owner,created_at,updated_at\n"
GOALS = (
    "goal_id,account_id,title,outcome_category,kpi_name,kpi_unit,baseline_value,target_value,"
    "baseline_date,target_date,weight,status,customer_confirmed_outcome,created_at,updated_at\n"
)
OK_NPS = "n_ok,acc_00001,,9,,2026-05-01T10:00:00Z\n"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("catalogue")
    generate(
        DemoSpec(accounts=12, days=90, seed=12, end_date=date(2026, 5, 31)), root / "good", **QUIET
    )
    results = load_landing(root / "base.duckdb", root / "good", **QUIET)
    assert {r.status for r in results} == {"loaded"}
    return root / "base.duckdb"


def _counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def _load_one(loaded, tmp_path, table: str, content: bytes | str, name: str = "bad.csv"):
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(loaded, warehouse)
    before = _counts(warehouse)
    folder = tmp_path / "landing" / table
    folder.mkdir(parents=True)
    data = content.encode() if isinstance(content, str) else content
    (folder / name).write_bytes(data)
    [result] = load_landing(warehouse, tmp_path / "landing", **QUIET)
    after = _counts(warehouse)
    others = {t: n for t, n in after.items() if t != table}
    assert others == {t: n for t, n in before.items() if t != table}, "another table changed"
    con = duckdb.connect(str(warehouse), read_only=True)
    quarantined = con.execute(
        """select original_row ->> $key, rule, column_name from raw._quarantine
        where source_file like '%' || $name order by 1, 2""",
        {"key": TABLES[table].primary_key[0], "name": name},
    ).fetchall()
    con.close()
    return result, after[table] - before[table], quarantined


def _a_user(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select user_id from raw.users where account_id = 'acc_00001' limit 1"
        ).fetchone()[0]
    finally:
        con.close()


def _rejected(result, *words):
    assert result.status == "rejected"
    for word in words:
        assert word in result.message, (word, result.message)


def test_missing_column_rejects_the_file(loaded, tmp_path):
    text = "response_id,account_id,user_id,comment,responded_at\nn1,acc_00001,,x,2026-05-01\n"
    result, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", text)
    _rejected(result, "nps_responses", "bad.csv", "missing required column", "score")
    assert (added, quarantined) == (0, [])


def test_a_file_separated_by_semicolons_is_rejected_with_why(loaded, tmp_path):
    text = (NPS + OK_NPS).replace(",", ";")
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", text)
    _rejected(
        result,
        "missing required column(s): response_id, account_id, score, responded_at (the header "
        "is one field, 'response_id;account_id;user_id;score;comment;responded_at': separate "
        "fields by commas)",
    )
    assert added == 0


def test_extra_column_is_reported_and_ignored(loaded, tmp_path):
    text = NPS.replace("\n", ",channel\n") + OK_NPS.replace("\n", ",email\n")
    result, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", text)
    assert result.status == "loaded" and result.ignored_columns == ["channel"]
    assert (added, quarantined) == (1, [])


def test_renamed_column_rejects_the_file(loaded, tmp_path):
    text = NPS.replace(",score,", ",nps_score,") + OK_NPS
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", text)
    _rejected(result, "missing required column", "score")
    assert added == 0


def test_non_numeric_score_is_quarantined(loaded, tmp_path):
    text = NPS + OK_NPS + "n_bad,acc_00001,,high,,2026-05-01T10:00:00Z\n"
    result, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", text)
    assert (result.status, added) == ("loaded", 1)
    assert quarantined == [("n_bad", "type: not a valid integer", "score")]


def test_nps_of_11_is_quarantined(loaded, tmp_path):
    text = NPS + OK_NPS + "n_11,acc_00001,,11,,2026-05-01T10:00:00Z\n"
    _, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", text)
    assert added == 1 and quarantined == [("n_11", "range: 0 to 10", "score")]


def test_csat_of_0_is_quarantined(loaded, tmp_path):
    text = (
        CSAT
        + "c_ok,acc_00001,,4,support,2026-05-01T10:00:00Z\n"
        + "c_0,acc_00001,,0,support,2026-05-01T10:00:00Z\n"
    )
    _, added, quarantined = _load_one(loaded, tmp_path, "csat_responses", text)
    assert added == 1 and quarantined == [("c_0", "range: 1 to 5", "score")]


def test_unknown_segment_is_quarantined(loaded, tmp_path):
    text = ACCOUNTS + (
        "acc_00001,Acme,smb,,,,2024-01-01T00:00:00Z,2026-05-30T00:00:00Z\n"
        "acc_00002,Birch,startup,,,,2024-01-01T00:00:00Z,2026-05-30T00:00:00Z\n"
    )
    _, added, quarantined = _load_one(loaded, tmp_path, "accounts", text)
    assert added == 1 and quarantined == [("acc_00002", "accepted values", "segment")]


def test_orphan_account_id_is_quarantined(loaded, tmp_path):
    text = NPS + OK_NPS + "n_orphan,acc_99999,,8,,2026-05-01T10:00:00Z\n"
    _, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", text)
    assert added == 1
    assert quarantined == [("n_orphan", "foreign key: no accounts.account_id", "account_id")]


def test_duplicate_event_delivery_loads_and_is_not_quarantined(loaded, tmp_path):
    user = _a_user(loaded)
    row = f"e_dup,acc_00001,{user},session_start,,2026-05-30T10:00:00Z,2026-05-30T10:00:05Z\n"
    again = row.replace("10:00:05Z", "10:30:00Z")  # redelivered half an hour later
    _, added, quarantined = _load_one(loaded, tmp_path, "usage_events", EVENTS + row + again)
    assert (added, quarantined) == (2, [])  # raw keeps both deliveries; staging keeps one


def test_same_key_with_other_content_is_quarantined(loaded, tmp_path):
    con = duckdb.connect(str(loaded), read_only=True)
    rid, account, score, at = con.execute(
        "select response_id, account_id, score, responded_at from raw.nps_responses limit 1"
    ).fetchone()
    con.close()
    changed = f"{rid},{account},,{(score + 1) % 11},,{at:%Y-%m-%dT%H:%M:%SZ}\n"
    _, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", NPS + OK_NPS + changed)
    assert added == 1
    assert quarantined == [(rid, "primary key: same key, other content", "response_id")]


def test_a_redelivery_written_differently_is_the_same_content(loaded, tmp_path):
    """Keys and content are compared as parsed values: the same time written with an offset
    instead of Z is the same event, in the file and against what raw already holds."""
    user = _a_user(loaded)
    row = f"e_tz,acc_00001,{user},session_start,,2026-05-30T10:00:00Z,2026-05-30T10:00:05Z\n"
    again = f"e_tz,acc_00001,{user},session_start,,2026-05-30 12:00:00+02:00,2026-05-30T11:00:00Z\n"
    _, added, quarantined = _load_one(loaded, tmp_path, "usage_events", EVENTS + row + again)
    assert (added, quarantined) == (2, [])
    con = duckdb.connect(str(loaded), read_only=True)
    rid, account, user_id, score, at = con.execute(
        "select response_id, account_id, user_id, score, responded_at from raw.nps_responses"
        " where comment is null limit 1"
    ).fetchone()
    con.close()
    same = f"{rid},{account},{user_id or ''},+{score},,{at:%Y-%m-%d %H:%M:%S}+00:00\n"
    (tmp_path / "nps").mkdir()
    _, added, quarantined = _load_one(loaded, tmp_path / "nps", "nps_responses", NPS + same)
    assert (added, quarantined) == (1, [])


def test_rows_without_a_key_and_with_other_content_are_one_key_in_conflict(loaded, tmp_path):
    user = _a_user(loaded)
    one = f",acc_00001,{user},session_start,,2026-05-30T10:00:00Z,2026-05-30T10:00:05Z\n"
    other = one.replace("session_start", "session_end")
    ok = one.replace(",acc", "e_ok,acc", 1)
    _, added, quarantined = _load_one(loaded, tmp_path, "usage_events", EVENTS + one + other + ok)
    assert added == 1
    assert quarantined == 2 * [(None, "not null", "event_id")] + 2 * [
        (None, "primary key: same key, other content", "event_id")
    ]


def test_end_before_start_is_quarantined(loaded, tmp_path):
    text = CONTRACTS + (
        "x_ok,acc_00001,team,2026-01-01,2026-12-31,1000,5,2025-12-20T10:00:00Z\n"
        "x_bad,acc_00001,team,2026-01-01,2025-12-31,1000,5,2025-12-20T10:00:00Z\n"
    )
    _, added, quarantined = _load_one(loaded, tmp_path, "contracts", text)
    assert added == 1 and quarantined == [("x_bad", "end_date >= start_date", "end_date")]


def test_event_from_the_future_is_quarantined(loaded, tmp_path):
    user = _a_user(loaded)
    text = EVENTS + (
        f"e_ok,acc_00001,{user},session_start,,2026-05-30T10:00:00Z,2026-05-30T10:00:05Z\n"
        f"e_future,acc_00001,{user},session_start,,2026-06-03T10:00:00Z,2026-05-30T10:00:05Z\n"
    )
    _, added, quarantined = _load_one(loaded, tmp_path, "usage_events", text)
    assert added == 1
    assert quarantined == [
        ("e_future", "occurred_at at most 1 day after received_at", "occurred_at")
    ]


def test_feature_event_without_feature_is_quarantined(loaded, tmp_path):
    user = _a_user(loaded)
    text = (
        EVENTS + f"e_nf,acc_00001,{user},feature_used,,2026-05-30T10:00:00Z,2026-05-30T10:00:05Z\n"
    )
    _, added, quarantined = _load_one(loaded, tmp_path, "usage_events", text)
    assert added == 0
    assert quarantined == [("e_nf", "not null when event_name = feature_used", "feature_key")]


def test_goal_target_equal_to_baseline_and_impossible_date_are_quarantined(loaded, tmp_path):
    text = GOALS + (
        "g_eq,acc_00001,t,other,k,u,10,10,2026-01-01,2026-06-01,1,active,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z\n"
        "g_feb,acc_00001,t,other,k,u,10,20,2026-02-30,2026-06-01,1,active,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z\n"
        "g_ok,acc_00001,t,other,k,u,10,20,2026-01-01,2026-06-01,1,active,,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z\n"
    )
    _, added, quarantined = _load_one(loaded, tmp_path, "customer_goals", text)
    assert added == 1
    assert quarantined == [
        ("g_eq", "target_value <> baseline_value", "target_value"),
        ("g_feb", "type: not a valid date", "baseline_date"),
    ]


def test_empty_file_is_rejected(loaded, tmp_path):
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", "\n\n")
    _rejected(result, "nps_responses", "bad.csv")
    assert added == 0


def test_zero_byte_file_is_rejected(loaded, tmp_path):
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", b"")
    _rejected(result, "nps_responses", "cannot be parsed")
    assert added == 0


def test_non_utf8_file_is_rejected(loaded, tmp_path):
    text = (NPS + "n_latin,acc_00001,,9,tr\u00e8s bien,2026-05-01T10:00:00Z\n").encode("latin-1")
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", text)
    _rejected(result, "nps_responses", "cannot be parsed", "This file is not utf-8 encoded")
    assert "\n" not in result.message
    assert added == 0


def test_a_row_with_more_fields_than_the_header_rejects_the_file(loaded, tmp_path):
    """Even when it is the only row (the header is the first line, never skipped)."""
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", NPS + OK_NPS[:-1] + ",x\n")
    _rejected(result, "nps_responses", "cannot be parsed", "more or fewer fields than the header")
    assert added == 0


def test_a_bad_row_past_the_sniffed_rows_is_named_with_its_reason(loaded, tmp_path):
    """DuckDB's sniffer reads the first 20,480 rows; a row after them with a field too many
    (and a quoted line break) is named by its line and DuckDB's reason, in one line."""
    rows = "".join(f"n{i},acc_00001,,9,,2026-05-01T10:00:00Z\n" for i in range(30_000))
    bad = 'n_bad,acc_00001,,9,"two\nlines",2026-05-01T10:00:00Z,x\n'
    result, added, _ = _load_one(loaded, tmp_path, "nps_responses", NPS + rows + bad)
    # Line 1 is the header, lines 2 to 30,001 the good rows.
    expected = "cannot be parsed: CSV Error on Line: 30002: Expected Number of Columns: 6 Found: 7"
    assert result.message.endswith(expected), result.message
    assert added == 0


def test_empty_lines_before_the_header_are_not_rows(loaded, tmp_path):
    text = NPS + OK_NPS
    for i, content in enumerate(["\ufeff\n\n" + text, "\r\n" + text.replace("\n", "\r\n")]):
        (tmp_path / str(i)).mkdir()
        result, added, quarantined = _load_one(loaded, tmp_path / str(i), "nps_responses", content)
        assert (result.status, added, quarantined) == ("loaded", 1, [])


def test_header_only_file_loads_nothing_once_the_table_has_data(loaded, tmp_path):
    result, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", NPS)
    assert (result.status, added, quarantined) == ("loaded", 0, [])


def test_header_only_file_is_rejected_on_first_load(tmp_path):
    folder = tmp_path / "landing" / "features"
    folder.mkdir(parents=True)
    (folder / "features.csv").write_text("feature_key,feature_name,module,is_core,released_on\n")
    [result] = load_landing(tmp_path / "wh.duckdb", tmp_path / "landing", **QUIET)
    _rejected(result, "features", "no rows", "no data yet")


def test_every_row_is_either_loaded_or_quarantined(loaded, tmp_path):
    """Row conservation: loaded + quarantined = rows in the file, for every file."""
    text = (
        NPS
        + OK_NPS
        + "n_11,acc_00001,,11,,2026-05-01T10:00:00Z\n"
        + "n_x,acc_00001,,x,,2026-05-01T10:00:00Z\n"
        + "n_orphan,acc_99999,,8,,yesterday\n"
    )
    result, added, quarantined = _load_one(loaded, tmp_path, "nps_responses", text)
    assert result.rows_in_file == 4
    assert result.rows_loaded + result.rows_quarantined == result.rows_in_file
    assert added == result.rows_loaded == 1
    assert len({q[0] for q in quarantined}) == result.rows_quarantined == 3


def test_quarantined_rows_reload_after_a_fix(loaded, tmp_path):
    text = NPS + "n_fix,acc_00001,,11,,2026-05-01T10:00:00Z\n"
    _load_one(loaded, tmp_path, "nps_responses", text)
    warehouse = tmp_path / "wh.duckdb"
    fixed = tmp_path / "landing" / "nps_responses" / "fixed.csv"
    fixed.write_text(NPS + "n_fix,acc_00001,,10,,2026-05-01T10:00:00Z\n")
    results = load_landing(warehouse, tmp_path / "landing", **QUIET)
    assert [r.rows_loaded for r in results if r.file.endswith("fixed.csv")] == [1]
    con = duckdb.connect(str(warehouse), read_only=True)
    waiting = con.execute(
        "select count(*) from raw._quarantine where original_row ->> 'response_id' = 'n_fix' "
        "and reloaded_at is null"
    ).fetchone()[0]
    con.close()
    assert waiting == 0


def test_the_committed_gx_project_matches_the_code():
    """great_expectations/ holds the suites the code builds (run `outcomes gx-init` if not)."""
    from customer_outcomes.gx_suites import MART_RULES, context, mart_expectations, raw_expectations

    ctx = context()

    def shape(expectations):
        return sorted((e.type, repr(sorted(e.kwargs.items()))) for e in expectations)

    for name, table in TABLES.items():
        suite = ctx.suites.get(f"raw_{name}")
        assert shape(suite.expectation_configurations) == shape(
            [e.configuration for e in raw_expectations(table)]
        ), name
    for mart in MART_RULES:
        suite = ctx.suites.get(f"mart_{mart}")
        assert shape(suite.expectation_configurations) == shape(
            [e.configuration for e in mart_expectations(mart)]
        ), mart


def test_gx_init_rewrites_only_what_the_code_changed(tmp_path, monkeypatch):
    """GX gives every object it saves a new id: `outcomes gx-init` keeps what is unchanged, so
    a rule changed in the code changes that suite's file alone."""
    from customer_outcomes import gx_suites

    root = tmp_path / "gx"

    def files() -> dict[Path, str]:
        kept = (p for p in root.rglob("*") if p.is_file() and "uncommitted" not in p.parts)
        return {p.relative_to(root): p.read_text() for p in kept}

    gx_suites.init_project(root)
    before = files()
    gx_suites.init_project(root)
    assert files() == before
    keys, ranges = gx_suites.MART_RULES["fct_renewals"]
    changed_rule = (keys, {**ranges, "renewed_arr": (0, 1)})
    monkeypatch.setitem(gx_suites.MART_RULES, "fct_renewals", changed_rule)
    gx_suites.init_project(root)
    after = files()
    assert [p for p in after if after[p] != before.get(p)] == [
        Path("expectations/mart_fct_renewals.json")
    ]


def test_data_docs_render_only_the_newest_validation_results(tmp_path, monkeypatch):
    """Each load stores a validation result per file; the Data Docs render the newest
    DOCS_VALIDATION_RESULTS of them, not every result ever stored (the committed project too)."""
    import pandas as pd
    import yaml

    from customer_outcomes import gx_suites

    committed = yaml.safe_load((gx_suites.GX_DIR / "great_expectations.yml").read_text())
    index = committed["data_docs_sites"]["local_site"]["site_index_builder"]
    assert index["validation_results_limit"] == gx_suites.DOCS_VALIDATION_RESULTS

    monkeypatch.setattr(gx_suites, "DOCS_VALIDATION_RESULTS", 2)
    root = tmp_path / "gx"
    gx_suites.init_project(root)
    ctx = gx_suites.context(root)
    frame = pd.DataFrame({gx_suites.ROW: [0], "feature_key": ["f"], "feature_name": ["F"]})
    for _ in range(3):
        gx_suites.run_checkpoint(ctx, "raw_features", frame)
    stored = list((root / "uncommitted" / "validations" / "raw_features").rglob("*.json"))
    gx_suites.build_docs(root)
    site = root / "uncommitted" / "data_docs" / "local_site"
    pages = list((site / "validations").rglob("*.html"))
    assert (len(stored), len(pages)) == (3, 2)


@pytest.mark.parametrize(
    ("kind", "value", "allowed"),
    [
        ("integer", " 12 ", True),
        ("integer", "\t+7\n", True),
        ("integer", "1 2", False),
        ("integer", "\u0661\u0662", False),  # Arabic-Indic digits: Python's \d matches them
        ("integer", "12\u00a0", False),  # no-break space: Python's \s matches it
        ("decimal", "-1.5e3", True),
        ("decimal", ".5", True),
        ("decimal", "1.2.3", False),
        ("date", "2026-02-28", True),
        ("date", "2026-13-01", False),
        ("date", "\uff12\uff10\uff12\uff16-01-01", False),  # full-width digits
        ("timestamp", " 2026-05-01T10:00:00Z", True),
        ("timestamp", "2026-05-01 10:00:00.123+02:00", True),
        ("timestamp", "2026-05-01T24:00:00", False),
        ("boolean", "TRUE ", True),
        ("boolean", "yes", False),
    ],
)
def test_text_forms_are_ascii_and_the_same_in_pandas_and_python(kind, value, allowed):
    """The contract's text forms (gx_suites.PATTERNS) accept ASCII digits and whitespace only,
    and pandas' vectorized (Arrow/RE2) match agrees with Python's re on every case."""
    import re

    import pandas as pd

    from customer_outcomes.gx_suites import PATTERNS

    pattern = PATTERNS[kind]
    assert bool(re.search(pattern, value)) is allowed
    series = pd.Series([value], dtype="str")
    assert bool(series.str.contains(pattern).iloc[0]) is allowed


def test_running_out_of_memory_is_not_a_bad_file(tmp_path):
    """A file that cannot be read for want of memory is the machine's trouble: the error
    propagates (the step fails and is retried), the file is not rejected as unparseable."""
    from customer_outcomes.load import _read_as_text

    path = tmp_path / "events.csv"
    path.write_text("a,b\n" + "".join(f"id_{i:08d},{'x' * 20}\n" for i in range(300_000)))
    con = duckdb.connect()
    con.execute("set memory_limit = '2MB'")
    with pytest.raises(duckdb.OutOfMemoryException):
        _read_as_text(con, path)
    con.close()
