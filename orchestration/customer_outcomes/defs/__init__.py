"""Dagster: one ``Definitions`` for ingest, contract checks, dbt, the renewal model and publish.

``dagster dev -m customer_outcomes.defs`` (``make dev``) serves it; ``outcomes run`` executes
the same ``refresh`` job in-process, with the same instance (``.dagster/``).
"""

from dagster import Definitions

from .assets import dbt_models, landing_tables, renewal_marts, renewal_model, serve_database
from .automation import full_refresh_job, landing_sensor, nightly, refresh_job, weekly
from .resources import resources


def build_definitions(**settings) -> Definitions:
    """The project's Definitions; ``settings`` override the locations and as_of date."""
    return Definitions(
        assets=[landing_tables, dbt_models, renewal_model, renewal_marts, serve_database],
        jobs=[refresh_job, full_refresh_job],
        schedules=[nightly, weekly],
        sensors=[landing_sensor],
        resources=resources(**settings),
    )


defs = build_definitions()
