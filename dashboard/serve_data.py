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

import threading
from collections.abc import Iterator, Sequence
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


def thresholds() -> dict[str, float]:
    values = dict(DEFAULT_THRESHOLDS)
    project = PROJECT_DIR / "dbt_project.yml"
    if project.exists():
        configured = (yaml.safe_load(project.read_text()) or {}).get("vars", {})
        for name in values:
            if isinstance(configured.get(name), int | float):
                values[name] = float(configured[name])
    return values


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


def money(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"${float(value):,.0f}"


def pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{100 * float(value):.{digits}f} %"


def number(value: Any, digits: int = 1) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


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
