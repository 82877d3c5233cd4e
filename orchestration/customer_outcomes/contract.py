"""The raw data contract as data (``outcomes contract-doc`` writes docs/raw-contract.md from it).

One source of truth for the loader (types, nulls, enums, ranges), the demo generator (column
order) and the tests that keep the dbt sources in step with it. Each column is ``required``
when the contract forbids nulls or uses it as a key; a landing file may omit a column that is
not required (it loads as null) but never one that is.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

# Contract type -> DuckDB type of the raw column.
RAW_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(18,4)",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True
    accepted: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    personal: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    system: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    foreign_keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str = "string", **kw) -> Column:
    return Column(name, type_, **kw)


def _opt(name: str, type_: str = "string", **kw) -> Column:
    return Column(name, type_, required=False, **kw)


SEGMENTS = ("smb", "mid_market", "enterprise")
ROLES = ("admin", "member", "viewer")
REASON_CATEGORIES = ("controllable", "external")
TOUCHPOINTS = ("support", "onboarding", "training", "business_review", "other")
OUTCOME_CATEGORIES = (
    "revenue_growth",
    "cost_reduction",
    "time_savings",
    "productivity",
    "risk_reduction",
    "talent",
    "other",
)
GOAL_STATUSES = ("active", "closed", "abandoned")
CONFIRMED_OUTCOMES = ("achieved", "partially_achieved", "missed")
# Who measures a goal's KPI: readings entered by hand, or derived from usage by the models
# (the product metric catalogue: seeds/product_metrics.csv).
KPI_SOURCES = ("manual", "product")
PRODUCT_METRICS_SEED = Path(__file__).resolve().parents[2] / "seeds" / "product_metrics.csv"


def product_metrics() -> dict[str, bool]:
    """The product metric catalogue (seeds/product_metrics.csv): metric key -> whether it is
    named with a feature (``weekly_feature_events:<feature_key>``)."""
    with PRODUCT_METRICS_SEED.open() as f:
        return {row["metric_key"]: row["takes_feature"] == "true" for row in csv.DictReader(f)}


MEASUREMENT_SOURCES = ("customer_reported", "product_derived", "business_review")
INTENT_ANSWERS = ("yes", "no", "not_sure")
# The intervention queue's trigger types (seeds/playbooks.csv), which name what prompted a play.
TRIGGER_TYPES = (
    "goal_off_track_high_usage",
    "intent_negative",
    "red_health",
    "feature_use_fell_off",
    "detractor_response",
    "no_goals_recorded",
)
ACTIVITY_OUTCOMES = ("completed", "abandoned")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "accounts",
            "crm",
            ("account_id", "updated_at"),
            (
                _c("account_id"),
                _c("account_name"),
                _c("segment", accepted=SEGMENTS),
                _opt("industry"),
                _opt("region"),
                _opt("csm_owner", personal=True),
                _c("created_at", "timestamp"),
                _c("updated_at", "timestamp"),
            ),
            "One row per account version from the CRM; the latest updated_at wins.",
        ),
        Table(
            "users",
            "product",
            ("user_id",),
            (
                _c("user_id"),
                _c("account_id"),
                _opt("email", personal=True),
                _opt("role", accepted=ROLES),
                _c("created_at", "timestamp"),
                _opt("deactivated_at", "timestamp"),
            ),
            "One row per product user.",
            {"account_id": ("accounts", "account_id")},
        ),
        Table(
            "features",
            "product",
            ("feature_key",),
            (
                _c("feature_key"),
                _c("feature_name"),
                _c("module"),
                _c("is_core", "boolean"),
                _c("released_on", "date"),
            ),
            "The product's feature catalog.",
        ),
        Table(
            "contracts",
            "billing",
            ("contract_id",),
            (
                _c("contract_id"),
                _c("account_id"),
                _c("plan"),
                _c("start_date", "date"),
                _opt("end_date", "date"),
                _c("arr", "decimal", min=0),
                _c("seats", "integer", min=0),
                _c("signed_at", "timestamp"),
            ),
            "One row per contract term or open-ended subscription (end_date null).",
            {"account_id": ("accounts", "account_id")},
        ),
        Table(
            "cancellations",
            "billing",
            ("cancellation_id",),
            (
                _c("cancellation_id"),
                _c("contract_id"),
                _c("account_id"),
                _c("cancelled_at", "timestamp"),
                _c("effective_date", "date"),
                _opt("reason_code"),
                _c("reason_category", accepted=REASON_CATEGORIES),
            ),
            "Why and when a contract ended or was not renewed.",
            {"contract_id": ("contracts", "contract_id"), "account_id": ("accounts", "account_id")},
        ),
        Table(
            "usage_events",
            "product",
            ("event_id",),
            (
                _c("event_id"),
                _c("account_id"),
                _c("user_id"),
                _c("event_name"),
                _opt("feature_key"),
                _c("occurred_at", "timestamp"),
                _c("received_at", "timestamp"),
            ),
            "Product analytics events, delivered at least once.",
            {
                "account_id": ("accounts", "account_id"),
                "user_id": ("users", "user_id"),
                "feature_key": ("features", "feature_key"),
            },
        ),
        Table(
            "usage_daily",
            "product",
            ("account_id", "usage_date", "user_id", "event_name", "feature_key"),
            (
                _c("account_id"),
                _c("usage_date", "date"),
                _opt("user_id"),
                _c("event_name"),
                _opt("feature_key"),
                _c("event_count", "integer", min=1),
            ),
            "Product usage delivered as daily counts (account x day x user x event x feature), "
            "beside or instead of usage_events; a re-delivered key replaces the earlier row.",
            {
                "account_id": ("accounts", "account_id"),
                "user_id": ("users", "user_id"),
                "feature_key": ("features", "feature_key"),
            },
        ),
        Table(
            "nps_responses",
            "surveys",
            ("response_id",),
            (
                _c("response_id"),
                _c("account_id"),
                _opt("user_id"),
                _c("score", "integer", min=0, max=10),
                _opt("comment", personal=True),
                _c("responded_at", "timestamp"),
            ),
            "NPS survey responses (0-10).",
            {"account_id": ("accounts", "account_id"), "user_id": ("users", "user_id")},
        ),
        Table(
            "csat_responses",
            "surveys",
            ("response_id",),
            (
                _c("response_id"),
                _c("account_id"),
                _opt("user_id"),
                _c("score", "integer", min=1, max=5),
                _c("touchpoint", accepted=TOUCHPOINTS),
                _c("responded_at", "timestamp"),
            ),
            "CSAT survey responses (1-5).",
            {"account_id": ("accounts", "account_id"), "user_id": ("users", "user_id")},
        ),
        Table(
            "customer_goals",
            "success",
            ("goal_id",),
            (
                _c("goal_id"),
                _c("account_id"),
                _c("title"),
                _c("outcome_category", accepted=OUTCOME_CATEGORIES),
                _c("kpi_name"),
                _c("kpi_unit"),
                _c("baseline_value", "decimal"),
                _c("target_value", "decimal"),
                _c("baseline_date", "date"),
                _c("target_date", "date"),
                _c("weight", "decimal", min=0),
                _c("status", accepted=GOAL_STATUSES),
                _opt("kpi_source", accepted=KPI_SOURCES),
                _opt("product_metric"),
                _opt("customer_confirmed_outcome", accepted=CONFIRMED_OUTCOMES),
                _c("created_at", "timestamp"),
                _c("updated_at", "timestamp"),
            ),
            "The customers' own goals from success plans.",
            {"account_id": ("accounts", "account_id")},
        ),
        Table(
            "goal_measurements",
            "success",
            ("measurement_id",),
            (
                _c("measurement_id"),
                _c("goal_id"),
                _c("measured_on", "date"),
                _c("value", "decimal"),
                _c("source", accepted=MEASUREMENT_SOURCES),
                _c("recorded_at", "timestamp"),
            ),
            "KPI readings of the goals over time.",
            {"goal_id": ("customer_goals", "goal_id")},
        ),
        Table(
            "renewal_intents",
            "success",
            ("checkin_id",),
            (
                _c("checkin_id"),
                _c("account_id"),
                _opt("contract_id"),
                _c("asked_on", "date"),
                _c("answer", accepted=INTENT_ANSWERS),
                _opt("notes", personal=True),
            ),
            "CSM check-ins asking 'do you plan to renew?'.",
            {"account_id": ("accounts", "account_id"), "contract_id": ("contracts", "contract_id")},
        ),
        Table(
            "cs_activities",
            "success",
            ("activity_id",),
            (
                _c("activity_id"),
                _c("account_id"),
                _c("play_key"),
                _opt("trigger_type", accepted=TRIGGER_TYPES),
                _opt("owner", personal=True),
                _c("opened_at", "timestamp"),
                _opt("closed_at", "timestamp"),
                _opt("outcome", accepted=ACTIVITY_OUTCOMES),
            ),
            "The plays CSMs ran: which play, on which account, prompted by what, by whom, when.",
            {"account_id": ("accounts", "account_id")},
        ),
    )
}

# Columns the loader adds to every raw row: where it came from and when it was loaded.
LINEAGE_COLUMNS = {"_source_file": "VARCHAR", "_loaded_at": "TIMESTAMP", "_batch_id": "VARCHAR"}
