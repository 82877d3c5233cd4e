"""Usage events, generated month by month with NumPy so memory stays bounded at any scale.

A user is active on a day with a probability driven by the account's usage level, the user's
engagement, weekdays (weekends are quiet) and seasons (late December and August dip). Accounts
heading for a value-driven churn fade out over their last 90 days; usage-trap accounts do not
(that is the trap). Each active user-day has one or two ``session_start`` events, a Poisson
number of ``feature_used`` events over the account's adopted features and a few other events.
About 1 % of events are delivered twice and about 2 % arrive days late; every event lands in the
batch file of the month it was *received* in, and events received after the end date are not
exported yet.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np

from . import catalog as cat
from .entities import World

OTHER_EVENTS = ["page_view", "report_exported", "notification_opened"]
EVENT_NAMES = ["session_start", "feature_used", *OTHER_EVENTS]
EPOCH = date(1970, 1, 1)


def _day_number(d: date, start: date) -> int:
    return (d - start).days


def _parse_day(value: str | None, start: date, default: int) -> int:
    if not value:
        return default
    return (date.fromisoformat(value[:10]) - start).days


def _account_day_intensity(world: World, n_days: int) -> np.ndarray:
    """accounts x days: usage level while a contract is in force, moved by the progress of
    the account's product-measured goals, fading before churn."""
    out = np.zeros((len(world.accounts), n_days), dtype=np.float32)
    for acc in world.accounts:
        for a, b in acc.live:
            lo, hi = (
                max(0, _day_number(a, world.start)),
                min(n_days - 1, _day_number(b, world.start)),
            )
            if lo <= hi:
                out[acc.idx, lo : hi + 1] = acc.usage
        for goal in acc.product_goals:  # the goal's hidden progress drives the usage
            first = max(0, _day_number(goal.baseline_date, world.start))
            for d in range(first, n_days):
                out[acc.idx, d] *= goal.lift(world.start + timedelta(days=d))
        if acc.cohort != "usage_trap" and acc.value < 0.45:
            for churn in acc.churn_days:
                c = _day_number(churn, world.start)
                for k in range(1, 91):
                    if 0 <= c - k < n_days:
                        out[acc.idx, c - k] *= 0.35 + 0.65 * (k / 90)
    return out


def _calendar_factor(start: date, n_days: int) -> np.ndarray:
    days = [start + timedelta(days=i) for i in range(n_days)]
    weekday = np.array([0.22 if d.weekday() >= 5 else 1.0 for d in days], dtype=np.float32)
    season = np.array(
        [0.6 if (d.month == 12 and d.day > 20) else 0.85 if d.month == 8 else 1.0 for d in days],
        dtype=np.float32,
    )
    return weekday * season


def write_events(world: World, out_dir: Path, seed: int, progress: Callable[[str], None]) -> int:
    start, end = world.start, world.end
    n_days = _day_number(end, start) + 1
    out_dir.mkdir(parents=True, exist_ok=True)
    intensity = _account_day_intensity(world, n_days)
    calendar = _calendar_factor(start, n_days)
    n_users = len(world.users)
    user_acc = np.array(world.user_account, dtype=np.int64)
    engagement = np.array(world.user_engagement, dtype=np.float32)
    created = np.array([_parse_day(u["created_at"], start, 0) for u in world.users])
    deactivated = np.array([_parse_day(u["deactivated_at"], start, n_days) for u in world.users])
    usage = np.array([a.usage for a in world.accounts], dtype=np.float32)
    n_feat = len(cat.FEATURES)
    release_day = np.array([-f[4] for f in cat.FEATURES])
    # Per account: adopted features (padded) and cumulative choice weights.
    adopted = np.zeros((len(world.accounts), n_feat), dtype=np.int64)
    cum = np.ones((len(world.accounts), n_feat), dtype=np.float64)
    dropped = np.full(len(world.accounts), -1)
    drop_day = np.full(len(world.accounts), n_days + 1)
    for acc in world.accounts:
        k = len(acc.adopted)
        adopted[acc.idx, :k] = acc.adopted
        w = np.array(acc.feature_weights)
        cum[acc.idx, :k] = np.cumsum(w / w.sum())
        if acc.dropped_feature is not None:
            dropped[acc.idx] = acc.dropped_feature
            drop_day[acc.idx] = _day_number(acc.drop_day, start)
    start_epoch = (start - EPOCH).days * 86400
    end_epoch = ((end - EPOCH).days + 1) * 86400
    con = duckdb.connect()
    con.execute("set threads = 1")
    feature_keys = [f[0] for f in cat.FEATURES]
    width = max(5, len(str(len(world.accounts))))
    pending: list[dict[str, np.ndarray]] = []
    next_id = 0
    total = 0
    month_start = date(start.year, start.month, 1)
    while month_start <= end:
        nxt = date(month_start.year + (month_start.month == 12), month_start.month % 12 + 1, 1)
        lo = max(0, _day_number(month_start, start))
        hi = min(n_days, _day_number(nxt, start))
        rng = np.random.default_rng([seed, month_start.year, month_start.month])
        day_idx = np.arange(lo, hi)
        alive = (created[:, None] <= day_idx[None, :]) & (deactivated[:, None] > day_idx[None, :])
        p = 0.6 * intensity[:, lo:hi][user_acc] ** 1.5 * engagement[:, None] * calendar[None, lo:hi]
        p = np.clip(p, 0, 0.95) * alive
        u, d = np.nonzero(rng.random((n_users, hi - lo), dtype=np.float32) < p)
        d = d + lo
        a = user_acc[u]
        n_sess = 1 + (rng.random(len(u)) < 0.15)
        n_features = rng.poisson(0.8 + 3.5 * usage[a])
        n_other = rng.poisson(0.5, len(u))
        counts = n_sess + n_features + n_other
        ev_u = np.repeat(u, counts)
        ev_d = np.repeat(d, counts)
        ev_a = np.repeat(a, counts)
        pos = np.arange(len(ev_u)) - np.repeat(np.cumsum(counts) - counts, counts)
        kind = np.where(
            pos < np.repeat(n_sess, counts),
            0,
            np.where(pos < np.repeat(n_sess + n_features, counts), 1, 2),
        )
        other = kind == 2
        kind[other] = 2 + rng.integers(0, len(OTHER_EVENTS), other.sum())
        feature = np.full(len(ev_u), -1)
        is_feat = kind == 1
        r = rng.random(is_feat.sum())
        slot = (r[:, None] > cum[ev_a[is_feat]]).sum(axis=1)
        feature[is_feat] = adopted[ev_a[is_feat], np.minimum(slot, n_feat - 1)]
        keep = np.ones(len(ev_u), dtype=bool)
        keep &= ~(is_feat & (ev_d < release_day[np.maximum(feature, 0)]))
        fell_off = is_feat & (feature == dropped[ev_a]) & (ev_d >= drop_day[ev_a])
        keep &= ~(fell_off & (rng.random(len(ev_u)) < 0.92))
        ev_u, ev_d, ev_a, kind, feature = (
            ev_u[keep],
            ev_d[keep],
            ev_a[keep],
            kind[keep],
            feature[keep],
        )
        n = len(ev_u)
        second = np.clip(rng.normal(13.5 * 3600, 3 * 3600, n), 0, 86399).astype(np.int64)
        occurred = start_epoch + ev_d * 86400 + second
        received = occurred + rng.exponential(90, n).astype(np.int64)
        late = rng.random(n) < 0.02
        received[late] += rng.integers(1, 7, late.sum()) * 86400 + rng.integers(
            0, 86400, late.sum()
        )
        ids = next_id + np.arange(n)
        next_id += n
        dup = np.nonzero(rng.random(n) < 0.01)[0]
        batch = {
            "event_id": np.concatenate([ids, ids[dup]]),
            "account": np.concatenate([ev_a, ev_a[dup]]),
            "user": np.concatenate([ev_u, ev_u[dup]]),
            "kind": np.concatenate([kind, kind[dup]]),
            "feature": np.concatenate([feature, feature[dup]]),
            "occurred": np.concatenate([occurred, occurred[dup]]),
            "received": np.concatenate([received, received[dup] + rng.integers(1, 3600, len(dup))]),
        }
        pending.append(batch)
        merged = {k: np.concatenate([b[k] for b in pending]) for k in batch}
        cutoff = min(end_epoch, ((nxt - EPOCH).days) * 86400)
        now = merged["received"] < cutoff
        later = (~now) & (merged["received"] < end_epoch)
        pending = [{k: v[later] for k, v in merged.items()}]
        rows = _write_month(
            con,
            {k: v[now] for k, v in merged.items()},
            out_dir / f"usage_events_{month_start:%Y_%m}.csv",
            feature_keys,
            width,
        )
        total += rows
        progress(f"usage_events {month_start:%Y-%m}: {rows:,} rows ({total:,} so far)")
        month_start = nxt
    con.close()
    return total


def _write_month(con, batch: dict[str, np.ndarray], path: Path, feature_keys, width) -> int:
    import pandas as pd

    frame = pd.DataFrame(batch)
    con.register("batch", frame)
    con.execute(
        f"""
        copy (
            select
                'evt_' || lpad(cast(event_id as varchar), 10, '0') as event_id,
                'acc_' || lpad(cast(account + 1 as varchar), {width}, '0') as account_id,
                'usr_' || lpad(cast("user" + 1 as varchar), 7, '0') as user_id,
                $names[kind + 1] as event_name,
                case when feature >= 0 then $keys[feature + 1] end as feature_key,
                strftime(make_timestamp(occurred * 1000000), '%Y-%m-%dT%H:%M:%SZ') as occurred_at,
                strftime(make_timestamp(received * 1000000), '%Y-%m-%dT%H:%M:%SZ') as received_at
            from batch
            order by received, event_id
        ) to '{path}' (header, delimiter ',')
        """,
        {"names": EVENT_NAMES, "keys": feature_keys},
    )
    con.unregister("batch")
    return len(frame)
