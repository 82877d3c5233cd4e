"""Read access to the published serve database, for the dashboard's pages.

The dashboard reads only ``OUTCOMES_SERVE`` (the write-audit-publish output), never the build
database, and always read-only. Publishing replaces the serve file atomically (a new file and
``os.replace``), so the dashboard never keeps a connection between runs: every run of a page
opens one short-lived read-only connection (a :class:`Snapshot`), reads everything it shows
through it and closes it. One connection per run means a run sees one publication, never a mix
of two; a publish running meanwhile is not blocked (it writes a new file and renames it) and the
next run sees the new data. Query results are cached by the publication's content hash, read
through the same connection, so a cache entry can never describe another publication.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st
import yaml

from customer_outcomes.config import PROJECT_DIR, Settings

# Success-gap quadrant thresholds: dbt_project.yml's vars when the project is at hand.
DEFAULT_THRESHOLDS = {
    "vendor_view_high_min": 60.0,
    "vendor_view_low_below": 45.0,
    "customer_view_low_below": 45.0,
}
GAP_TYPES = ["usage_trap", "at_risk", "healthy", "quiet_success", "no_goals"]
GAP_LABELS = {
    "usage_trap": "Usage traps",
    "at_risk": "At risk",
    "healthy": "Healthy",
    "quiet_success": "Quiet successes",
    "no_goals": "No measured goals",
}
GAP_COLORS = ["#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#7f7f7f"]
# Retention charts leave out the months whose comparison base (accounts) is below var
# retention_min_base_accounts: a rate over one or two accounts jumps between 0 and 100 %.
DEFAULT_RETENTION_MIN_BASE = 5


class ServeUnavailable(RuntimeError):
    """The serve database does not exist (yet) or holds no publication."""


def serve_path() -> Path:
    return Settings.from_env().serve


@dataclass
class Snapshot:
    """One read-only connection to one publication of the serve database."""

    path: Path
    con: duckdb.DuckDBPyConnection
    published_at: Any
    content_hash: str

    def df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return _cached_query(self.content_hash, sql, tuple(params), self.con)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        frame = self.df(sql, params)
        return None if frame.empty else frame.iat[0, 0]


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_query(
    content_hash: str, sql: str, params: tuple, _con: duckdb.DuckDBPyConnection
) -> pd.DataFrame:
    return _con.execute(sql, list(params)).df()


@contextmanager
def open_snapshot(path: Path | None = None) -> Iterator[Snapshot]:
    """A read-only connection to the serve file as it is now, closed on exit."""
    path = Path(path or serve_path())
    if not path.exists():
        raise ServeUnavailable(
            f"No serve database at {path}. Run `make run` (or `outcomes publish`) first, "
            "or point OUTCOMES_SERVE at a published file."
        )
    con = duckdb.connect(str(path), read_only=True)
    try:
        try:
            published_at, content_hash = con.execute(
                "select published_at, content_hash from marts._published"
            ).fetchone()
        except duckdb.Error as exc:
            raise ServeUnavailable(f"{path} holds no publication (marts._published)") from exc
        yield Snapshot(path, con, published_at, content_hash)
    finally:
        con.close()


# The snapshot of the current script run: the entry point opens it, the pages read it.
_current = threading.local()


@contextmanager
def use_snapshot(snapshot: Snapshot) -> Iterator[Snapshot]:
    previous = getattr(_current, "snapshot", None)
    _current.snapshot = snapshot
    try:
        yield snapshot
    finally:
        _current.snapshot = previous


def snapshot() -> Snapshot:
    current = getattr(_current, "snapshot", None)
    if current is None:
        raise RuntimeError("pages run inside dashboard/app.py, which opens the serve snapshot")
    return current


def project_vars() -> dict[str, Any]:
    """The vars of dbt_project.yml (empty when the project is not at hand)."""
    project = PROJECT_DIR / "dbt_project.yml"
    if not project.exists():
        return {}
    return (yaml.safe_load(project.read_text()) or {}).get("vars", {}) or {}


def project_number(name: str, default: float) -> float:
    """A numeric var of dbt_project.yml, or ``default``."""
    value = project_vars().get(name)
    return float(value) if isinstance(value, int | float) else float(default)


def thresholds() -> dict[str, float]:
    return {name: project_number(name, default) for name, default in DEFAULT_THRESHOLDS.items()}


def retention_min_base() -> int:
    """Var retention_min_base_accounts: a retention rate over fewer accounts is not charted."""
    return int(project_number("retention_min_base_accounts", DEFAULT_RETENTION_MIN_BASE))


def selected_segments() -> list[str]:
    """The segments chosen in the sidebar (all when none is chosen)."""
    chosen = st.session_state.get("segments") or []
    return list(chosen) or all_segments()


def all_segments() -> list[str]:
    frame = snapshot().df("select distinct segment from marts.dim_accounts order by 1")
    return [s for s in frame["segment"].tolist() if s is not None]


def in_segments(column: str = "segment") -> tuple[str, list[str]]:
    """A SQL condition and its parameters restricting ``column`` to the chosen segments."""
    segments = selected_segments()
    return f"{column} in ({', '.join('?' for _ in segments)})", segments


def known(value: Any) -> bool:
    """Whether ``value`` holds something (not None, NaN, NaT or NA)."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array: it is there
        return True


def money(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"${float(value):,.0f}"


def money_short(value: Any) -> str:
    """Dollars in a few characters for a metric tile: $14.9M, $845K, $950."""
    if not known(value):
        return "—"
    amount = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= size:
            return f"${amount / size:,.1f}{suffix}"
    return f"${amount:,.0f}"


def pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{100 * float(value):.{digits}f} %"


def number(value: Any, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def as_of_date() -> str:
    """The date the marts' current figures are computed as of (marts.fct_data_freshness)."""
    frame = snapshot().df("select as_of_date from marts.fct_data_freshness")
    return "—" if frame.empty else day(frame["as_of_date"].iloc[0])


def stale_data() -> str | None:
    """A sentence when the as-of date lies more than var freshness_warn_days past the newest
    data loaded (marts.fct_data_freshness), else None."""
    frame = snapshot().df(
        """select as_of_date, newest_data_date, days_past_newest_data, freshness_warn_days
        from marts.fct_data_freshness where is_stale"""
    )
    if frame.empty:
        return None
    row = frame.iloc[0]
    if pd.isna(row["newest_data_date"]):
        return f"No data is loaded up to {row['as_of_date']:%Y-%m-%d}: every figure is empty."
    return (
        f"The data ends on {row['newest_data_date']:%Y-%m-%d}, {int(row['days_past_newest_data'])} "
        f"days before the as-of date {row['as_of_date']:%Y-%m-%d}: figures for the days since "
        "are extrapolated (renewals due since count as churn, months without data look flat)."
    )


# --- What the pages show: human labels and formats ------------------------------------------
#
# Every page shows the marts' columns under these labels, in these formats (kind):
#   text      as it is            code      a code of the marts in words (humanize)
#   prose     a sentence of the marts, its snake_case words spelled out (spelled_out)
#   money     whole dollars       ratio     a fraction as a percent (0.93 -> 93.0%)
#   progress  a fraction as a bar, 32.6%    pct100    0-100 as a bar, 33%
#   int       a count
#   number    two decimals        auc       three decimals      signed    +1.2 / -0.4
#   amount    a KPI value, with thousands separators
#   date      a date (no time)    quarter   "2027 Q1"         month     "July 2026"
#   yesno     Yes / No
COLUMNS: dict[str, tuple[str, str]] = {
    # Accounts
    "account_name": ("Account", "text"),
    "account_id": ("Account ID", "text"),
    "contract_id": ("Contract ID", "text"),
    "segment": ("Segment", "code"),
    "arr": ("ARR", "money"),
    "lifecycle_stage": ("Lifecycle stage", "code"),
    "days_to_renewal": ("Days to renewal", "int"),
    "next_renewal_date": ("Next renewal", "date"),
    # Success gaps
    "vendor_view_score": ("Vendor view (health)", "score"),
    "customer_view_score": ("Customer view", "score"),
    "gap_score": ("Success gap", "score"),
    "gap_type": ("Gap type", "code"),
    "health_band": ("Health band", "code"),
    "value_realization_level": ("Value realized", "code"),
    "goals_total": ("Goals", "int"),
    "active_goals_off_track": ("Active goals off track", "int"),
    "latest_intent_answer": ("Renewal intent", "code"),
    "latest_intent_asked_on": ("Intent asked on", "date"),
    # Renewals
    "renewal_date": ("Renewal date", "date"),
    "renewal_quarter": ("Renewal quarter", "quarter"),
    "expiring_arr": ("Expiring ARR", "money"),
    "renewal_probability": ("Renewal probability", "ratio"),
    "risk_band": ("Risk band", "code"),
    "arr_at_risk": ("ARR at risk", "money"),
    "top_drivers": ("What pulls it down", "prose"),
    "model_version": ("Model version", "text"),
    "model_status": ("Model status", "code"),
    "scored_at": ("Scored on", "date"),
    # Worklist and interventions
    "queue": ("Owner", "text"),
    "queue_rank": ("Rank", "int"),
    "status": ("Status", "code"),
    "reason": ("Why", "prose"),
    "recommended_play_name": ("Play", "text"),
    "recommended_play": ("What to do", "text"),
    "play_in_progress": ("Play in progress", "code"),
    "risk": ("Churn risk", "ratio"),
    "risk_source": ("Risk estimated from", "code"),
    "priority_score": ("At stake", "money"),
    "priority_rank": ("Rank", "int"),
    "trigger_type": ("Trigger", "code"),
    "play_name": ("Play", "text"),
    # Play effectiveness
    "outcome": ("Outcome", "code"),
    "n_treated": ("Accounts with the play", "int"),
    "n_matched": ("Matched accounts", "int"),
    "effect": ("Effect", "number"),
    "ci_low": ("95 % interval from", "number"),
    "ci_high": ("to", "number"),
    "naive_difference": ("Naive difference", "number"),
    # Goals
    "goal_title": ("Goal", "text"),
    "attainment_pct": ("Attainment", "pct100"),
    "attainment_status": ("Attainment status", "code"),
    "progress_ratio": ("Progress", "ratio"),
    "expected_progress_ratio": ("Expected progress", "ratio"),
    "is_on_track": ("On track", "yesno"),
    "customer_confirmed_outcome": ("Outcome confirmed by the customer", "code"),
    "is_outcome_disputed": ("Outcome disputed", "yesno"),
    "outcome_category": ("Outcome category", "code"),
    "kpi_name": ("KPI", "text"),
    "kpi_unit": ("Unit", "code"),
    "baseline_value": ("Baseline", "amount"),
    "target_value": ("Target", "amount"),
    "latest_value": ("Latest", "amount"),
    "target_date": ("Target date", "date"),
    "goal_status": ("Goal status", "code"),
    # Health and usage
    "week_start": ("Week", "date"),
    "usage_date": ("Day", "date"),
    "breadth_score": ("Breadth", "score"),
    "depth_score": ("Depth", "score"),
    "frequency_score": ("Frequency", "score"),
    "trend_score": ("Trend", "score"),
    "sentiment_score": ("Sentiment", "score"),
    "health_score": ("Health score", "score"),
    "active_users": ("Active users", "int"),
    "sessions": ("Sessions", "int"),
    "feature_events": ("Feature events", "int"),
    # Signals
    "signal": ("Signal", "code"),
    "feature": ("Measured as", "code"),
    "roc_auc": ("ROC AUC", "auc"),
    "brier_score": ("Brier score", "auc"),
    "n_with_signal": ("Test renewals with the signal", "int"),
    "n_test": ("Test renewals", "int"),
    "n_train": ("Training renewals", "int"),
    "test_from_date": ("Test renewals from", "date"),
    "lead_days": ("Days before the renewal date", "int"),
    "decile": ("Decile of prediction", "int"),
    "n": ("Renewals", "int"),
    "mean_predicted": ("Mean predicted renewal probability", "ratio"),
    "observed_rate": ("Observed renewal rate", "ratio"),
    # Monthly metrics and cohorts
    "month_start": ("Month", "month"),
    "nps": ("NPS", "number"),
    "csat_pct": ("CSAT %", "number"),
    "grr": ("GRR", "ratio"),
    "nrr": ("NRR", "ratio"),
    "grr_ttm": ("GRR (trailing twelve months)", "ratio"),
    "nrr_ttm": ("NRR (trailing twelve months)", "ratio"),
    "ending_arr": ("ARR", "money"),
    "accounts_at_start": ("Accounts at the start of the month", "int"),
    "cohort_quarter": ("Cohort (start quarter)", "quarter"),
    "months_since_start": ("Months since start", "int"),
    "cohort_accounts": ("Accounts in the cohort", "int"),
    "retained_accounts": ("Accounts retained", "int"),
    "logo_retention_rate": ("Logo retention", "ratio"),
    "cohort_starting_arr": ("Starting ARR", "money"),
    "retained_arr": ("ARR retained", "money"),
    "arr_retention_rate": ("ARR retention", "ratio"),
}

# The marts' codes (segments, gap types, statuses, ...) in words; anything else is humanized.
VALUE_LABELS = {
    "all": "All segments",
    "enterprise": "Enterprise",
    "mid_market": "Mid-market",
    "smb": "SMB",
    "usage_trap": "Usage trap",
    "at_risk": "At risk",
    "quiet_success": "Quiet success",
    "no_goals": "No measured goals",
    "in_progress": "In progress",
    "renewal_window": "Renewal window",
    "not_sure": "Not sure",
    # value realization: none (nothing realized) and unknown (no measured goal)
    "none": "Not realized",
    "unknown": "Unknown",
    "base_rate": "Recent churn rate (no model)",
    "model": "Renewal model",
    "too_few": "Too few to tell",
    "ok": "Estimated",
    "goal_progress": "Goal progress",
    "health": "Health score",
    "renewal": "Renewal",
    "goal_off_track_high_usage": "Goals off track despite healthy usage",
    "intent_negative": "Not sure or not renewing",
    "red_health": "Red health",
    "feature_use_fell_off": "Feature use fell off",
    "detractor_response": "NPS detractor",
    "no_goals_recorded": "No goals recorded",
    "usd": "USD",
    # Renewal signals and the features that carry them
    "nps": "NPS",
    "csat": "CSAT",
    "health_score": "Health score",
    "usage": "Usage",
    "goal_attainment": "Goal attainment",
    "renewal_intent": "Renewal intent",
    "full_model": "Full model",
    "nps_score": "NPS score",
    "csat_pct": "CSAT %",
    "user_days_per_seat_28d": "Active user-days per seat, last 28 days",
    "goal_pace_pct": "Goal pace %",
    "intent_score": "Renewal-intent score",
    "logistic_regression": "Logistic regression",
    "gradient_boosting": "Gradient boosting",
    "random_forest": "Random forest",
}

# Number formats of the kinds: in tables (Streamlit), in charts (d3 / Vega-Lite).
_TABLE_FORMATS = {
    "money": ("dollar", 1),
    "ratio": ("percent", 0.001),
    "score": ("%.0f", None),
    "int": ("%d", None),
    "number": ("%.2f", None),
    "auc": ("%.3f", None),
    "signed": ("%+.1f", None),
    "amount": ("localized", None),
}
CHART_FORMATS = {
    "money": "$,.0f",
    "ratio": ".1%",
    "score": ".0f",
    "pct100": ".0f",
    "int": ",.0f",
    "number": ".2f",
    "auc": ".3f",
    "signed": "+.1f",
    "amount": ",.2f",
}


def humanize(value: Any) -> str | None:
    """A code of the marts in words (``mid_market`` -> ``Mid-market``); None stays None."""
    if not known(value):
        return None
    text = str(value)
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    text = text.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


_SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def spelled_out(text: Any) -> str | None:
    """A sentence of the marts with its snake_case words spelled out: 'use of audit_log fell'
    -> 'use of audit log fell', 'answered "not_sure"' -> 'answered "not sure"'."""
    if not known(text):
        return None
    return _SNAKE_CASE.sub(lambda match: match.group(0).replace("_", " "), str(text))


def label(column: str) -> str:
    """The label of a mart column on the pages."""
    return COLUMNS[column][0] if column in COLUMNS else humanize(column) or column


def kind(column: str) -> str:
    return COLUMNS[column][1] if column in COLUMNS else "text"


def day(value: Any) -> str:
    """A date as 2027-01-31, never with a time; '—' when there is none."""
    return f"{pd.Timestamp(value):%Y-%m-%d}" if known(value) else "—"


def month_label(value: Any) -> str:
    return f"{pd.Timestamp(value):%B %Y}" if known(value) else "—"


def quarter_label(value: Any) -> str:
    """The quarter of a date as '2027 Q1'."""
    if not known(value):
        return "—"
    stamp = pd.Timestamp(value)
    return f"{stamp.year} Q{stamp.quarter}"


def yes_no(value: Any) -> str | None:
    return ("Yes" if bool(value) else "No") if known(value) else None


def _shown_values(values: pd.Series, how: str) -> pd.Series:
    def each(convert):
        return values.map(lambda v: convert(v) if known(v) else None).astype(object)

    if how in _TABLE_FORMATS or how == "pct100":
        return pd.to_numeric(values, errors="coerce").astype(float)
    if how == "progress":  # a fraction as a percent on the same 0-100 bar
        return 100 * pd.to_numeric(values, errors="coerce").astype(float)
    if how == "date":
        return each(lambda v: pd.Timestamp(v).date())
    if how == "quarter":
        return each(quarter_label)
    if how == "month":
        return each(month_label)
    if how == "code":
        return each(humanize)
    if how == "prose":
        return each(spelled_out)
    if how == "yesno":
        return each(yes_no)
    return each(lambda v: v)


def _column_config(title: str, how: str, width: Any = None, help: str | None = None):
    if how in _TABLE_FORMATS:
        fmt, step = _TABLE_FORMATS[how]
        return st.column_config.NumberColumn(title, format=fmt, step=step, width=width, help=help)
    if how in ("progress", "pct100"):  # a probability keeps a decimal: 49.5% is below half
        return st.column_config.ProgressColumn(
            title,
            min_value=0,
            max_value=100,
            format="%.1f%%" if how == "progress" else "%.0f%%",
            width=width,
            help=help,
        )
    if how == "date":
        return st.column_config.DateColumn(title, format="YYYY-MM-DD", width=width, help=help)
    return st.column_config.TextColumn(title, width=width, help=help)


def display_frame(
    frame: pd.DataFrame,
    columns: Iterable[str],
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``columns`` of ``frame`` under their labels, with values in their shown form (dates
    without times, codes in words, quarters as '2027 Q1')."""
    labels, kinds = labels or {}, kinds or {}
    shown: dict[str, pd.Series] = {}
    for column in columns:
        title = labels.get(column, label(column))
        if title in shown:
            raise ValueError(f"two columns would show as {title!r}: pass labels")
        shown[title] = _shown_values(frame[column], kinds.get(column, kind(column)))
    return pd.DataFrame(shown, index=frame.index)


def show_table(
    frame: pd.DataFrame,
    columns: Iterable[str],
    *,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    widths: Mapping[str, Any] | None = None,
    helps: Mapping[str, str] | None = None,
    container: Any = st,
    **kwargs: Any,
) -> None:
    """``st.dataframe`` of ``columns`` of ``frame`` under human labels and formats: money in
    dollars, ratios in percent, dates without times, codes in words, empty cells as '—'."""
    columns = list(columns)
    labels, kinds = dict(labels or {}), dict(kinds or {})
    widths, helps = widths or {}, helps or {}
    shown = display_frame(frame, columns, labels, kinds)
    config = {}
    for column, title in zip(columns, shown.columns, strict=True):
        how = kinds.get(column, kind(column))
        config[title] = _column_config(title, how, widths.get(column), helps.get(column))
    container.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=config,
        placeholder="—",
        **kwargs,
    )


def tip(field: str, how: str | None = None, title: str | None = None, type_: str = "") -> Any:
    """An Altair tooltip of a mart column under its label and in its format."""
    import altair as alt

    how = how or kind(field)
    fmt = CHART_FORMATS.get(how)
    if how in ("date", "month", "quarter") and not type_:
        type_ = "T"
    shorthand = f"{field}:{type_}" if type_ else field
    extra: dict[str, Any] = {}
    if type_ == "T":
        extra["format"] = {"month": "%B %Y"}.get(how, "%Y-%m-%d")
    elif fmt and type_ == "Q":
        extra["format"] = fmt
    return alt.Tooltip(shorthand, title=title or label(field), **extra)
