"""The dashboard on the demo data: every page runs, shows the marts' figures, renders in a real
browser, and a publish while a page is open neither blocks nor shows a mix of two versions.

The test run's warehouse is published to a serve file (write-audit-publish); the dashboard reads
only that file. Screenshots land in test-artifacts/dashboard/ (ignored by git).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from browser import DevTools, chromium, free_port
from streamlit import dataframe_util

from customer_outcomes.config import PROJECT_DIR
from customer_outcomes.publish import publish

pytestmark = pytest.mark.slow

DASHBOARD = PROJECT_DIR / "dashboard"
APP = DASHBOARD / "app.py"
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "dashboard"
# page file (under dashboard/), URL path, title, charts it must render at least
PAGES = [
    ("views/success_gaps.py", "", "Success gaps", 1),
    ("views/interventions.py", "interventions", "CSM worklist", 0),
    ("views/renewal_risk.py", "renewal_risk", "Renewal risk", 1),
    ("views/signals.py", "signals", "Signal evaluation", 3),
    ("views/trends.py", "trends", "Metric trends", 6),
    ("views/cohorts.py", "cohorts", "Cohort retention", 1),
    ("views/account.py", "account", "Account drill-down", 2),
]
GAP_LABELS = {
    "usage_trap": "Usage traps",
    "at_risk": "At risk",
    "healthy": "Healthy",
    "quiet_success": "Quiet successes",
    "no_goals": "No measured goals",
}


@pytest.fixture(scope="module")
def serve(built, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dashboard") / "serve.duckdb"
    publish(built.warehouse, path)
    return path


@pytest.fixture
def serve_env(serve, monkeypatch) -> Path:
    monkeypatch.setenv("OUTCOMES_SERVE", str(serve))
    return serve


def _read(serve: Path, sql: str, params=()):
    con = duckdb.connect(str(serve), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def _assert_clean(at, page: str) -> None:
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


def _money(value) -> str:
    return f"${float(value):,.0f}"


def _gap_counts(serve: Path, segment: str | None = None) -> dict[str, str]:
    where = "where segment = ?" if segment else ""
    rows = _read(
        serve,
        f"select gap_type, count(*) from marts.fct_success_gaps {where} group by 1",
        [segment] if segment else [],
    )
    counts = dict.fromkeys(GAP_LABELS, 0) | dict(rows)
    return {GAP_LABELS[k]: str(v) for k, v in counts.items()}


def _serve_data():
    """The dashboard's serve_data module (its labels), imported from dashboard/."""
    sys.path.insert(0, str(DASHBOARD))
    try:
        import serve_data
    finally:
        sys.path.remove(str(DASHBOARD))
    return serve_data


# --- What a reader sees: labels, not the marts' column names ----------------------------------


def _raw_names(serve: Path) -> set[str]:
    """The column names of every table in schema marts of the serve file with an underscore:
    none of them may show on a page."""
    rows = _read(
        serve,
        """select distinct column_name from duckdb_columns()
        where schema_name = 'marts' and contains(column_name, '_')""",
    )
    return {name for (name,) in rows}


def _raw_name_pattern(names: set[str]) -> re.Pattern:
    # A whole word: account_name, not a part of some longer identifier.
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")


# Text that is never what a reader should see: an empty value's repr, a date with a time.
_NOT_FOR_READERS = re.compile(r"(?<![A-Za-z])(?:None|NaN|NaT|nan)(?![A-Za-z])| 00:00:00")
# Vega-Lite channels that put a title (the field name unless one is given) or values on a chart.
_TEXT_CHANNELS = {"x", "y", "color", "fill", "stroke", "size", "shape", "text", "row", "column"}


def _chart_texts(proto) -> list[str]:
    """What a Vega-Lite chart shows in words: its titles (a channel without a title shows its
    field's name), the values of its text channels (axis labels, legend entries, tooltips)."""
    spec = json.loads(proto.spec)
    datasets = [
        dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets
    ]
    if proto.HasField("data") and proto.data.data:
        datasets.append(dataframe_util.convert_arrow_bytes_to_pandas_df(proto.data.data))
    texts: list[str] = []
    fields: set[str] = set()

    def channel(definition, legend_key: str | None) -> None:
        if not isinstance(definition, dict) or "field" not in definition:
            return
        if legend_key and definition.get(legend_key, {}) is None:
            return  # no axis or legend: neither title nor values show
        title = definition.get("title", definition["field"])
        if title:
            texts.extend(title if isinstance(title, list) else [str(title)])
        fields.add(definition["field"])

    def walk(node) -> None:
        if isinstance(node, dict):
            title = node.get("title")
            if isinstance(title, str):
                texts.append(title)
            elif isinstance(title, dict) and isinstance(title.get("text"), str):
                texts.append(title["text"])
            for name, definition in (node.get("encoding") or {}).items():
                if name == "tooltip":
                    for item in definition if isinstance(definition, list) else [definition]:
                        channel(item, None)
                elif name in _TEXT_CHANNELS:
                    channel(definition, "axis" if name in ("x", "y") else "legend")
            for key, value in node.items():
                if key not in ("encoding", "datasets", "data"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    for frame in datasets:
        for field in fields & set(frame.columns):
            texts.extend(str(v) for v in frame[field].dropna().unique() if isinstance(v, str))
    return texts


def _dataframe_texts(element) -> tuple[list[str], list[str]]:
    """What an ``st.dataframe`` shows in words (its column headers: a column_config label, else
    the column's name; its text cells), and problems with its cells (a date with its time, an
    empty cell shown as None)."""
    frame = element.value
    config = json.loads(element.proto.columns or "{}")
    texts, problems = [], []
    for column in frame.columns:
        settings = config.get(str(column), {})
        if settings.get("hidden"):
            continue
        texts.append(settings.get("label") or str(column))
        values = frame[column]
        if str(values.dtype).startswith("datetime64"):
            problems.append(f"{column}: a date shown with its time")
        if values.isna().any() and element.proto.placeholder in ("", "None"):
            problems.append(f"{column}: empty cells shown as None")
        texts.extend(v for v in values.dropna().unique() if isinstance(v, str))
    return texts, problems


def _page_texts(at) -> tuple[list[str], list[str]]:
    """Every text a page shows (main area and sidebar, expanders included), and the problems
    found in its tables."""
    texts: list[str] = []
    problems: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text"):
        texts.extend(str(e.value) for e in at.get(kind))
    for kind in ("info", "warning", "error", "success", "exception"):
        texts.extend(str(e.value) for e in at.get(kind))
    for metric in at.metric:
        texts.extend([metric.label, str(metric.value), metric.proto.help])
    for kind in ("selectbox", "multiselect", "radio"):
        for widget in at.get(kind):
            texts.append(widget.label)
            texts.extend(str(o) for o in widget.options)
    for kind in ("toggle", "checkbox", "expander"):
        texts.extend(str(e.label) for e in at.get(kind))
    for element in at.dataframe:
        shown, found = _dataframe_texts(element)
        texts.extend(shown)
        problems.extend(found)
    for chart in at.get("vega_lite_chart"):
        texts.extend(_chart_texts(chart.proto))
    return [t for t in texts if t], problems


def _unreadable(texts: list[str], raw: re.Pattern) -> list[str]:
    """The texts a reader should not see: a raw column name of the marts, None, a time 00:00."""
    return sorted({t[:160] for t in texts if raw.search(t) or _NOT_FOR_READERS.search(t)})


# --- Every page, in Streamlit's own test harness ------------------------------------------


def test_every_page_runs_and_shows_the_marts_figures(serve_env):
    serve = serve_env
    at = _app()
    _assert_clean(at, "entry")
    (as_of,) = _read(serve, "select as_of_date from marts.fct_data_freshness")[0]
    assert at.sidebar.caption[0].value.startswith(f"Figures as of {as_of:%Y-%m-%d}; published ")
    for page, _, title, charts in PAGES:
        at.switch_page(page).run()
        _assert_clean(at, page)
        assert at.title[0].value == title
        assert _charts(at) >= charts, f"{page}: {_charts(at)} charts"
        shown = _metrics(at)
        if page.endswith("success_gaps.py"):
            assert {k: shown[k] for k in GAP_LABELS.values()} == _gap_counts(serve)
            assert int(shown["Usage traps"]) > 0
        elif page.endswith("interventions.py"):
            n, accounts = _read(
                serve,
                """select (select count(*) from marts.fct_intervention_queue),
                    (select count(*) from marts.fct_csm_worklist)""",
            )[0]
            assert shown["Open interventions"] == str(n)
            assert shown["Accounts this week"] == str(accounts)
        elif page.endswith("renewal_risk.py"):
            at_risk, high = _read(
                serve,
                """select sum(arr_at_risk), count(*) filter (where risk_band = 'high')
                from marts.fct_renewal_predictions""",
            )[0]
            assert shown["ARR at risk"] == _money(at_risk)
            assert shown["High-risk renewals"] == str(high)
            # Probabilities on a 0-100 bar, shown with one decimal (49.5%: below half).
            table = at.dataframe[0]
            stored = _read(serve, "select renewal_probability from marts.fct_renewal_predictions")
            assert sorted(table.value["Renewal probability"]) == pytest.approx(
                sorted(100 * p for (p,) in stored)
            )
            bar = json.loads(table.proto.columns)["Renewal probability"]["type_config"]
            assert (bar["format"], bar["min_value"], bar["max_value"]) == ("%.1f%%", 0, 100)
        elif page.endswith("signals.py"):
            (nps_auc,) = _read(
                serve,
                "select roc_auc from marts.fct_renewal_signal_evaluation where signal = 'nps'",
            )[0]
            assert shown["NPS AUC"] == f"{nps_auc:.3f}"
            # The lead-time curves name each signal's earliest lead at AUC >= 0.70.
            earliest = _read(
                serve,
                """select signal, max(lead_days) from marts.fct_renewal_signal_lead_time
                where status = 'ok' and roc_auc >= 0.7 group by signal""",
            )
            captions = " ".join(c.value for c in at.caption)
            assert earliest
            for signal, days in earliest:
                assert f"{_serve_data().humanize(signal)} {days} days ahead" in captions
        elif page.endswith("trends.py"):
            nps, grr = _read(
                serve,
                """select
                    (select nps from marts.fct_customer_metrics_monthly
                     where segment = 'all' and is_complete_month and nps is not null
                     order by month_start desc limit 1),
                    (select grr_ttm from marts.fct_customer_metrics_monthly
                     where segment = 'all' and is_complete_month and grr_ttm is not null
                     order by month_start desc limit 1)""",
            )[0]
            assert shown["NPS"] == f"{nps:.1f}"
            assert shown["GRR, 12 months"] == f"{100 * grr:.1f} %"
        elif page.endswith("cohorts.py"):
            (n,) = _read(
                serve, "select count(distinct cohort_quarter) from marts.fct_cohort_retention"
            )[0]
            assert shown["Cohorts"] == str(n)
        elif page.endswith("account.py"):
            account_id = at.selectbox(key="account_id").value
            arr, vendor = _read(
                serve,
                "select arr, vendor_view_score from marts.fct_success_gaps where account_id = ?",
                [account_id],
            )[0]
            assert shown["ARR"] == _money(arr)
            assert shown["Vendor view (health)"] == f"{vendor:.0f}"
            (goals,) = _read(
                serve,
                "select count(*) from marts.fct_goal_attainment where account_id = ?",
                [account_id],
            )[0]
            assert goals > 0 and len(at.dataframe[0].value) == goals


def test_no_page_shows_a_raw_column_name_of_the_marts(serve_env):
    """Every page speaks the reader's language: no column name of the marts (account_name,
    arr_at_risk, ...) in a title, caption, metric, widget, table header or cell, chart title,
    legend or tooltip; no date with 00:00:00; no empty value shown as None."""
    raw_names = _raw_names(serve_env)
    assert {"account_name", "arr_at_risk", "month_start"} <= raw_names
    raw = _raw_name_pattern(raw_names)
    at = _app()
    _assert_clean(at, "entry")
    shown: dict[str, list[str]] = {}
    tables = 0
    for page, _, _, _ in PAGES:
        at.switch_page(page).run()
        _assert_clean(at, page)
        texts, problems = _page_texts(at)
        if page.endswith("cohorts.py"):  # the ARR view of the heatmap too
            at.radio[0].set_value("arr_retention_rate").run()
            _assert_clean(at, page)
            more, found = _page_texts(at)
            texts, problems = texts + more, problems + found
        tables += len(at.dataframe)
        assert not problems, f"{page}: {problems}"
        assert texts, page
        bad = _unreadable(texts, raw)
        if bad:
            shown[page] = bad
    assert not shown, f"raw names, None or times on the pages: {shown}"
    assert tables >= 6


def test_the_segment_filter_applies_to_the_pages(serve_env):
    serve = serve_env
    at = _app()
    (segment,) = _read(serve, "select min(segment) from marts.fct_success_gaps")[0]
    at.sidebar.multiselect(key="segments").select(segment).run()
    _assert_clean(at, "filtered")
    shown = _metrics(at)
    assert {k: shown[k] for k in GAP_LABELS.values()} == _gap_counts(serve, segment)
    at.switch_page("views/interventions.py").run()
    (n,) = _read(
        serve, "select count(*) from marts.fct_intervention_queue where segment = ?", [segment]
    )[0]
    assert _metrics(at)["Open interventions"] == str(n)


# --- A publish while a dashboard page is open ----------------------------------------------


def _variant_warehouse(built, root: Path) -> Path:
    """A warehouse whose marts differ from the built one: one usage trap fewer."""
    path = root / "variant.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(f"attach '{built.warehouse}' as built (read_only)")
        con.execute("create schema marts")
        for (name,) in con.execute(
            """select table_name from duckdb_tables()
            where database_name = 'built' and schema_name = 'marts'"""
        ).fetchall():
            con.execute(f"create table marts.{name} as select * from built.marts.{name}")
        con.execute(
            """delete from marts.fct_success_gaps where account_id = (
                select min(account_id) from marts.fct_success_gaps where gap_type = 'usage_trap')"""
        )
        con.execute("detach built")
    finally:
        con.close()
    return path


def _shown(at) -> tuple[str, str]:
    caption = next(c.value for c in at.sidebar.caption if "Content hash" in c.value)
    return caption.split("`")[1], _metrics(at)["Usage traps"]


def test_a_publish_while_the_dashboard_is_open_neither_blocks_nor_mixes(built, serve_env, tmp_path):
    serve_data = _serve_data()
    serve = serve_env
    variant = _variant_warehouse(built, tmp_path)
    original = built.warehouse

    at = _app()
    before = _shown(at)
    (old_traps,) = _read(
        serve, "select count(*) from marts.fct_success_gaps where gap_type = 'usage_trap'"
    )[0]
    assert before[1] == str(old_traps)

    # The app's read path held open (one page run's snapshot) while the refresh publishes.
    with serve_data.open_snapshot(serve) as held:
        old_hash = held.content_hash
        done = threading.Event()
        result = {}

        def refresh():
            result["new"] = publish(variant, serve)
            done.set()

        started = time.monotonic()
        threading.Thread(target=refresh, daemon=True).start()
        assert done.wait(120), "the publish was blocked by an open dashboard page"
        assert time.monotonic() - started < 60
        # The held run still reads the old publication, whole.
        assert held.scalar("select content_hash from marts._published") == old_hash
        assert (
            held.scalar("select count(*) from marts.fct_success_gaps where gap_type = 'usage_trap'")
            == old_traps
        )
    new_hash = result["new"].content_hash
    assert new_hash != old_hash
    assert old_hash.startswith(before[0])

    # The open AppTest page shows the old data until it reruns, then the new, never a mix.
    assert _shown(at) == before
    at.run()
    assert _shown(at) == (new_hash[:16], str(old_traps - 1))

    # Publishes racing with reruns: every run shows one publication, consistent with itself.
    pairs = {old_hash[:16]: str(old_traps), new_hash[:16]: str(old_traps - 1)}
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_publishing():
        try:
            for i in range(4):
                publish(original if i % 2 == 0 else variant, serve)
                if stop.is_set():
                    break
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    publisher = threading.Thread(target=keep_publishing, daemon=True)
    publisher.start()
    seen = set()
    while not stop.is_set():
        at.run()
        _assert_clean(at, "during publishes")
        shown_hash, traps = _shown(at)
        assert pairs[shown_hash] == traps, "a run mixed two publications"
        seen.add(shown_hash)
    publisher.join(60)
    assert not errors, errors
    at.run()
    assert _shown(at) == (new_hash[:16], str(old_traps - 1))
    assert _read(serve, "select content_hash from marts._published") == [(new_hash,)]
    # Leave the module's serve file as the fixture published it.
    publish(built.warehouse, serve)


# --- In a real browser ----------------------------------------------------------------------


@contextmanager
def _streamlit(serve: Path, log: Path):
    port = free_port()
    env = dict(os.environ, OUTCOMES_SERVE=str(serve))
    cmd = [
        str(Path(sys.executable).parent / "streamlit"),
        "run",
        str(APP),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "streamlit did not start"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# What the browser shows: rendered charts (vega-embed draws a canvas or an svg), error and
# exception elements, the page title, whether the app is still running the script, the page's
# text, and its tables' column headers and visible cells (st.dataframe draws on a canvas; the
# grid keeps an accessibility table of the headers and visible cells in the DOM).
_STATE = """(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const charts = q('[data-testid="stVegaLiteChart"]').filter(
      (c) => c.querySelector('canvas, svg.marks')).length;
  const errors = q('[data-testid="stException"], [data-testid="stAlertContentError"]')
      .map((e) => e.innerText.slice(0, 300));
  const title = (document.querySelector('h1') || {}).innerText || null;
  const running = q('[data-testid="stStatusWidget"]').some((e) => e.innerText.includes('Running'));
  const metrics = q('[data-testid="stMetric"]').length;
  const tables = q('[data-testid="stDataFrame"]').length;
  const headers = q('[data-testid="stDataFrame"] [role="columnheader"]').map((e) => e.textContent);
  const cells = q('[data-testid="stDataFrame"] [role="gridcell"]').map((e) => e.textContent);
  const text = document.body.innerText;
  return {charts, errors, title, running, metrics, tables, headers, cells, text};
})()"""


def _drawn(state: dict, title: str, charts: int) -> bool:
    """The page has run and drawn its title, charts, metrics and its tables' headers."""
    return (
        state.get("title") == title
        and state.get("charts", 0) >= max(charts, 0)
        and state.get("metrics", 0) > 0
        and not state.get("running")
        and bool(state.get("headers") or not state.get("tables"))
    )


def test_every_page_renders_its_charts_in_chromium(serve, tmp_path):
    """Every page renders its charts in a real browser, and what it shows is for a reader: no
    column name of the marts in its text or its tables' headers and cells, no date with a time,
    no empty cell shown as None."""
    binary = chromium()
    raw = _raw_name_pattern(_raw_names(serve))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _streamlit(serve, ARTIFACTS / "streamlit.log") as url:
        browser = DevTools(binary, tmp_path / "chromium-profile", ARTIFACTS / "chromium.log")
        try:
            for page, path, title, charts in PAGES:
                session = browser.open(f"{url}/{path}")
                deadline = time.monotonic() + 90
                state = {}
                while time.monotonic() < deadline:
                    state = browser.evaluate(_STATE, session) or {}
                    if state.get("errors"):
                        break
                    if _drawn(state, title, charts):
                        # Let the last chart finish drawing for the screenshot; a table the
                        # grid draws again meanwhile has no headers for a moment: wait on.
                        time.sleep(1.0)
                        state = browser.evaluate(_STATE, session) or {}
                        if state.get("errors") or _drawn(state, title, charts):
                            break
                    time.sleep(0.5)
                name = Path(page).stem
                browser.screenshot(ARTIFACTS / f"{name}.png", session)
                assert not state.get("errors"), f"{page}: {state['errors']}"
                assert state.get("title") == title, f"{page}: {state}"
                assert state.get("charts", 0) >= charts, f"{page}: {state}"
                assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
                if state.get("tables"):
                    assert state.get("headers"), f"{page}: no table headers in the DOM"
                texts = [*state["text"].splitlines(), *state["headers"], *state["cells"]]
                assert not _unreadable(texts, raw), f"{page}: {_unreadable(texts, raw)}"
                assert "None" not in state["cells"], f"{page}: a cell shows None"
        finally:
            browser.close()


def test_stale_data_and_a_model_without_signal_are_said_on_the_pages(built, tmp_path, monkeypatch):
    """A build as of 100 days past the data's end, whose model found no signal: every page
    opens with a warning naming the data's last date, and the renewal page says the model found
    no signal instead of listing risks."""
    warehouse = _variant_warehouse(built, tmp_path)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            """update marts.fct_data_freshness set
                as_of_date = newest_data_date + interval 100 day,
                days_past_newest_data = 100, is_stale = true"""
        )
        con.execute(
            """update marts.fct_renewal_predictions set model_status = 'no_signal',
                renewal_probability = null, risk_band = null, arr_at_risk = null,
                top_drivers = null"""
        )
        newest = con.execute("select newest_data_date from marts.fct_data_freshness").fetchone()[0]
    finally:
        con.close()
    serve = tmp_path / "serve.duckdb"
    publish(warehouse, serve)
    monkeypatch.setenv("OUTCOMES_SERVE", str(serve))
    at = _app()
    _assert_clean(at, "success gaps")
    warnings = [w.value for w in at.warning]
    assert any(f"The data ends on {newest:%Y-%m-%d}, 100 days before" in w for w in warnings)
    at.switch_page("views/renewal_risk.py").run()
    _assert_clean(at, "renewal risk")
    assert any("The model found no signal in this data" in w.value for w in at.warning)
    assert not _metrics(at), "a model without signal shows no risk figures"
