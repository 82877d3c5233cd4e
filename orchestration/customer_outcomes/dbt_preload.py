"""A dbt-duckdb plugin (profiles.yml, ``plugins``) that imports the renewal models' libraries
(pandas, scikit-learn: about 2.6 s) on a background thread as soon as dbt opens the DuckDB
warehouse, so that import overlaps the SQL models instead of delaying the Python models at the
end of the build, which nothing else runs beside (DECISIONS.md, "Renewal model").

It changes no setting and no result: a failed import here is ignored, and the Python model's
own import then raises it as usual.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

from dbt.adapters.duckdb.plugins import BasePlugin

PRELOADED = "customer_outcomes.renewal_model"
_import = importlib.import_module


def _preload() -> None:
    with contextlib.suppress(Exception):  # the model's own import reports a failure
        _import(PRELOADED)


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        threading.Thread(target=_preload, name="outcomes-preload", daemon=True).start()
