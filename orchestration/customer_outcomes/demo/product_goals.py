"""Goals the product measures (``customer_goals.kpi_source = 'product'``) in the demo.

About a third of the goals name a metric of the product metric catalogue
(``seeds/product_metrics.csv``) instead of a KPI read by hand. For them the hidden value
realized drives the usage behind the metric: from the goal's baseline date the account's usage
intensity grows (or, for a negative progress, shrinks) with the goal's hidden progress, on the
same curve the manual readings follow, by up to ``INTENSITY_LIFT`` at full progress. Such a goal
has no readings in ``goal_measurements``: the warehouse derives them from usage.

Only accounts that use the product enough to count on (``MIN_USAGE``, ``MIN_USERS``) get such
goals, and counts of users or events only once the account's users have arrived. The baseline
is what a CSM would write down: the metric's mean over the ``BASELINE_WEEKS`` complete weeks
before the baseline date, measured on the generated events; the target is ``TARGET_CHANGE``
above it (counts: at least ``MIN_STEP``).
Which goals are product-measured and their metric are drawn from a stream of each goal's own,
so the rest of the data set stays the same draw for draw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from . import catalog as cat

PRODUCT_GOAL_SHARE = 0.35
INTENSITY_LIFT = 1.0
TARGET_CHANGE = 0.5
BASELINE_WEEKS = 4
MIN_USAGE, MIN_USERS = 0.2, 5
# A target at least this far from the baseline (users, events), so one user more or less in a
# week is not a tenth of the way.
MIN_STEP = 2.0
# Most of an account's users arrive in its first 30 days: counts of users or events are only
# a goal's metric once the baseline weeks start after them.
SETTLED_DAYS = 35
# (metric, title, kpi_name, kpi_unit, chance)
METRICS = (
    (
        "weekly_active_users",
        "Get more of the team using it weekly",
        "weekly active users",
        "users",
        0.45,
    ),
    (
        "weekly_feature_events",
        "Make {feature} part of the weekly routine",
        "{feature} uses a week",
        "events",
        0.35,
    ),
    (
        "weekly_sessions_per_active_user",
        "Use it more often",
        "sessions per active user a week",
        "sessions",
        0.2,
    ),
)


@dataclass
class ProductGoal:
    row: dict  # the customer_goals row; baseline and target are set once events exist
    account_idx: int
    account_id: str
    metric: str
    feature_key: str | None
    baseline_date: date
    target_date: date
    final: float  # hidden progress at the target date
    first_week: date  # the first of the complete weeks the baseline is measured over

    def lift(self, day: date) -> float:
        """The usage intensity factor the goal's progress gives on ``day``."""
        if day < self.baseline_date:
            return 1.0
        span = (self.target_date - self.baseline_date).days
        share = min(1.0, (day - self.baseline_date).days / span)
        return max(0.2, 1.0 + INTENSITY_LIFT * self.final * share**1.2)


def draw(
    seed: int,
    goal_id: str,
    account,
    baseline_date: date,
    target_date: date,
    final: float,
    start: date,
) -> ProductGoal | None:
    """Whether goal ``goal_id`` of ``account`` (entities.Account) is product-measured, and its
    metric (its own random stream): only a goal whose baseline weeks have the contract in force
    and lie in the generated window; while the account's users still arrive, only a metric per
    active user."""
    rng = random.Random(f"product-goal:{seed}:{goal_id}")
    if rng.random() >= PRODUCT_GOAL_SHARE:
        return None
    if account.usage < MIN_USAGE or len(account.users) < MIN_USERS:
        return None
    first_week = _monday(baseline_date) - timedelta(weeks=BASELINE_WEEKS)
    live_from = next((a for a, b in account.live if a <= baseline_date <= b), None)
    if live_from is None or live_from > first_week or first_week < start:
        return None
    choices = METRICS if live_from + timedelta(days=SETTLED_DAYS) <= first_week else METRICS[-1:]
    metric, title, kpi, unit, _ = rng.choices(choices, [m[4] for m in choices])[0]
    feature_key = None
    if metric == "weekly_feature_events":
        weights = account.feature_weights
        top = account.adopted[weights.index(max(weights))]
        feature_key, name = cat.FEATURES[top][0], cat.FEATURES[top][1]
        title, kpi = title.format(feature=name), kpi.format(feature=name.lower())
    row = {
        "title": title,
        "outcome_category": "productivity",
        "kpi_name": kpi,
        "kpi_unit": unit,
        "kpi_source": "product",
        "product_metric": f"{metric}:{feature_key}" if feature_key else metric,
    }
    return ProductGoal(
        row,
        account.idx,
        account.account_id,
        metric,
        feature_key,
        baseline_date,
        target_date,
        final,
        first_week,
    )


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def set_baselines(goals: list[ProductGoal], events_dir: Path) -> None:
    """Baseline and target of each product goal, from the generated events: the metric's mean
    over the BASELINE_WEEKS complete weeks before the baseline date, as
    int_product_goal_measurements measures it (its 4-week figure of the week before)."""
    if not goals:
        return
    con = duckdb.connect()
    con.execute("set threads = 1")
    con.execute(
        "create table goals (goal_id varchar, account_id varchar, metric varchar, "
        "feature_key varchar, first_week date, last_week date)"
    )
    con.executemany(
        "insert into goals values (?, ?, ?, ?, ?, ?)",
        [
            (
                g.row["goal_id"],
                g.account_id,
                g.metric,
                g.feature_key,
                g.first_week,
                _monday(g.baseline_date) - timedelta(weeks=1),
            )
            for g in goals
        ],
    )
    files = str(events_dir / "*.csv")
    values = con.execute(
        f"""
        with weeks as (
            select goal_id, account_id, metric, feature_key,
                unnest(generate_series(first_week, last_week, interval 7 day))::date as week
            from goals
        ),
        events as (
            select distinct
                account_id, user_id, event_name, feature_key, event_id,
                date_trunc('week', cast(left(occurred_at, 10) as date))::date as week
            from read_csv('{files}', header = true, all_varchar = true)
            where account_id in (select account_id from goals)
        ),
        weekly as (
            select
                w.goal_id,
                w.metric,
                count(distinct e.user_id) as users,
                count(*) filter (where e.event_name = 'session_start') as sessions,
                count(*) filter (
                    where e.event_name = 'feature_used' and e.feature_key = w.feature_key
                ) as feature_events
            from weeks as w
            left join events as e on e.account_id = w.account_id and e.week = w.week
            group by w.goal_id, w.metric, w.week
        )
        select
            goal_id,
            case any_value(metric)
                when 'weekly_active_users' then avg(users)
                when 'weekly_feature_events' then avg(feature_events)
                when 'weekly_sessions_per_active_user' then sum(sessions) / nullif(sum(users), 0)
            end
        from weekly
        group by goal_id
        """
    ).fetchall()
    baseline = dict(values)
    for g in goals:
        value = round(float(baseline.get(g.row["goal_id"]) or 0.0), 2)
        step = value * TARGET_CHANGE
        if g.metric != "weekly_sessions_per_active_user":
            step = max(step, MIN_STEP)
        g.row["baseline_value"] = f"{value:.2f}"
        g.row["target_value"] = f"{value + max(step, 0.01):.2f}"
