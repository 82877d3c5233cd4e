"""customer_outcomes dashboard: the success gap and renewal risk, from the serve database.

Run with ``make dashboard`` (``streamlit run dashboard/app.py`` on 127.0.0.1). It reads only the
published serve database (``OUTCOMES_SERVE``, default ``data/serve.duckdb``), read-only, through
one short-lived connection per run (see ``serve_data.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serve_data

st.set_page_config(page_title="Customer outcomes", layout="wide")

PAGES = [
    st.Page("views/success_gaps.py", title="Success gaps", default=True),
    st.Page("views/interventions.py", title="CSM worklist"),
    st.Page("views/renewal_risk.py", title="Renewal risk"),
    st.Page("views/signals.py", title="Signal evaluation"),
    st.Page("views/trends.py", title="Metric trends"),
    st.Page("views/cohorts.py", title="Cohort retention"),
    st.Page("views/account.py", title="Account drill-down"),
]

page = st.navigation(PAGES)

try:
    snapshot_cm = serve_data.open_snapshot()
    snap = snapshot_cm.__enter__()
except serve_data.ServeUnavailable as exc:
    st.title("Customer outcomes")
    st.warning(str(exc))
    st.stop()

try:
    with serve_data.use_snapshot(snap):
        with st.sidebar:
            st.multiselect(
                "Segment",
                serve_data.all_segments(),
                key="segments",
                format_func=serve_data.humanize,
                placeholder="All segments",
            )
            st.caption(
                f"Figures as of {serve_data.as_of_date()}; published "
                f"{snap.published_at:%Y-%m-%d %H:%M} UTC"
            )
            with st.expander("Data version"):
                st.caption(f"Serve database `{snap.path.name}`")
                st.caption(f"Content hash `{snap.content_hash[:16]}`")
        stale = serve_data.stale_data()
        if stale:
            st.warning(stale)
        page.run()
finally:
    snapshot_cm.__exit__(None, None, None)
