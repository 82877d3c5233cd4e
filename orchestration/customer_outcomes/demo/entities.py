"""Everything but the usage events: accounts, users, contracts, surveys, goals, check-ins.

Each account gets a hidden latent ``value`` (how much value it really realizes, 0..1) and a
``usage`` level. Value drives goal progress, renewal intent, CSAT and renewal; usage is only
partly tied to value, and the planted cohorts break the link on purpose:
``usage_trap`` (high usage, low value) and ``quiet_success`` (low usage, high value).
NPS is only weakly tied to value. Some churn is external and random.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..contract import CONFIRMED_OUTCOMES, MEASUREMENT_SOURCES, SEGMENTS, TOUCHPOINTS
from . import catalog as cat
from . import plays as pl
from . import product_goals as pg

DAY = timedelta(days=1)


@dataclass
class Account:
    idx: int
    account_id: str
    segment: str
    cohort: str
    value: float
    usage: float
    created: date
    n_users: int = 0
    adopted: list[int] = field(default_factory=list)
    feature_weights: list[float] = field(default_factory=list)
    dropped_feature: int | None = None
    drop_day: date | None = None
    live: list[tuple[date, date]] = field(default_factory=list)  # days with a contract in force
    churn_days: list[date] = field(default_factory=list)
    contracts: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    # Plays (demo/plays.py): their own random stream, the CSM by date, the activities, and
    # each term contract's renewal check-ins drawn ahead ({days before end: (asked?, answer)}).
    play_rng: random.Random = field(default_factory=random.Random)
    csm_versions: list[tuple[date, str | None]] = field(default_factory=list)
    activities: list[pl.Activity] = field(default_factory=list)
    checks: dict[str, dict[int, tuple[bool, str]]] = field(default_factory=dict)
    # Goals the product measures (demo/product_goals.py): they drive the account's usage.
    product_goals: list[pg.ProductGoal] = field(default_factory=list)


@dataclass
class World:
    start: date
    end: date
    accounts: list[Account]
    tables: dict[str, list[dict]]
    users: list[dict]
    user_account: list[int]
    user_engagement: list[float]
    activities: list[pl.Activity] = field(default_factory=list)
    product_goals: list[pg.ProductGoal] = field(default_factory=list)


def ts(d: date, seconds: int = 0) -> str:
    return (datetime(d.year, d.month, d.day) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - DAY


def _pick_cohort(rng: random.Random) -> tuple[str, float, float]:
    r = rng.random()
    if r < 0.12:
        return "usage_trap", rng.uniform(0.05, 0.3), rng.uniform(0.8, 0.98)
    if r < 0.22:
        return "quiet_success", rng.uniform(0.72, 0.95), rng.uniform(0.08, 0.25)
    value = rng.betavariate(2.2, 2.0)
    usage = min(0.75, max(0.05, 0.15 + 0.4 * value + rng.gauss(0, 0.08)))
    return "normal", value, usage


def build_world(n_accounts: int, days: int, seed: int, end: date) -> World:
    rng = random.Random(seed)
    start = end - timedelta(days=days - 1)
    tables: dict[str, list[dict]] = {
        name: []
        for name in (
            "accounts",
            "users",
            "features",
            "contracts",
            "cancellations",
            "nps_responses",
            "csat_responses",
            "customer_goals",
            "goal_measurements",
            "renewal_intents",
            "cs_activities",
        )
    }
    for key, name, module, is_core, released in cat.FEATURES:
        tables["features"].append(
            {
                "feature_key": key,
                "feature_name": name,
                "module": module,
                "is_core": "true" if is_core else "false",
                "released_on": (start - timedelta(days=released)).isoformat(),
            }
        )
    width = max(5, len(str(n_accounts)))
    accounts: list[Account] = []
    users: list[dict] = []
    user_account: list[int] = []
    engagement: list[float] = []
    for i in range(n_accounts):
        cohort, value, usage = _pick_cohort(rng)
        seg = rng.choices(SEGMENTS, (50, 33, 17))[0]
        if rng.random() < 0.45:
            created = start - timedelta(days=rng.randint(1, 700))
        else:
            created = start + timedelta(days=rng.randint(0, max(1, days - 60)))
        acc = Account(i, f"acc_{i + 1:0{width}d}", seg, cohort, value, usage, created)
        acc.play_rng = pl.play_rng(seed, i)
        accounts.append(acc)
        _account_rows(rng, acc, tables, end)
        _users(rng, acc, tables, users, user_account, engagement, end)
        _adoption(rng, acc, start, end)
        _contracts(rng, acc, tables, end)
        _goals(rng, acc, tables, end, seed, start)
        _intents(rng, acc, tables, end)
        _surveys(rng, acc, tables, users, user_account, start, end)
    activities = [a for acc in accounts for a in acc.activities]
    tables["cs_activities"] = pl.rows(pl.play_rng(seed, -1), activities, end, ts)
    product_goals = [g for acc in accounts for g in acc.product_goals]
    return World(
        start, end, accounts, tables, users, user_account, engagement, activities, product_goals
    )


def _account_rows(rng: random.Random, acc: Account, tables: dict, end: date) -> None:
    name = f"{rng.choice(cat.NAME_PARTS_A)} {rng.choice(cat.NAME_PARTS_B)} {acc.idx + 1}"
    csm = f"{rng.choice(cat.CSMS)}@{cat.VENDOR_DOMAIN}"
    created_s = rng.randint(8 * 3600, 18 * 3600)
    row = {
        "account_id": acc.account_id,
        "account_name": name,
        "segment": acc.segment,
        "industry": rng.choice(cat.INDUSTRIES),
        "region": rng.choice(cat.REGIONS),
        "csm_owner": csm,
        "created_at": ts(acc.created, created_s),
        "updated_at": ts(acc.created, created_s),
    }
    tables["accounts"].append(row)
    acc.csm_versions.append((acc.created, csm))
    # A later CRM version: a new CSM (and now and then a new segment).
    if rng.random() < 0.3:
        later = acc.created + timedelta(days=rng.randint(30, 400))
        if later <= end:
            new = dict(row, csm_owner=f"{rng.choice(cat.CSMS)}@{cat.VENDOR_DOMAIN}")
            new["updated_at"] = ts(later, rng.randint(8 * 3600, 18 * 3600))
            new["_batch"] = 1
            tables["accounts"].append(new)
            acc.csm_versions.append((later, new["csm_owner"]))


def _users(rng, acc, tables, users, user_account, engagement, end) -> None:
    lo, hi = {"smb": (3, 8), "mid_market": (8, 18), "enterprise": (18, 40)}[acc.segment]
    acc.n_users = rng.randint(lo, hi)
    for _ in range(acc.n_users):
        n = len(users) + 1
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        if rng.random() < 0.65:
            created = acc.created + timedelta(days=rng.randint(0, 30))
        else:
            created = acc.created + timedelta(days=rng.randint(30, 500))
        created = min(created, end)
        deactivated = None
        if rng.random() < 0.1:
            d = created + timedelta(days=rng.randint(60, 500))
            deactivated = ts(d, rng.randint(0, 86399)) if d <= end else None
        domain = acc.account_id.replace("_", "") + ".example"
        row = {
            "user_id": f"usr_{n:07d}",
            "account_id": acc.account_id,
            "email": f"{first}.{last}{n}@{domain}",
            "role": rng.choices(("admin", "member", "viewer", None), (1, 6, 2, 1))[0],
            "created_at": ts(created, rng.randint(0, 86399)),
            "deactivated_at": deactivated,
        }
        tables["users"].append(row)
        acc.users.append(row)
        users.append(row)
        user_account.append(acc.idx)
        engagement.append(rng.uniform(0.6, 1.3))


def _adoption(rng: random.Random, acc: Account, start: date, end: date) -> None:
    n_features = len(cat.FEATURES)
    k = max(2, min(n_features, round(2 + acc.usage * 14 + rng.gauss(0, 1.5))))
    core = [i for i, f in enumerate(cat.FEATURES) if f[3]]
    other = [i for i, f in enumerate(cat.FEATURES) if not f[3]]
    rng.shuffle(core)
    rng.shuffle(other)
    n_core = min(len(core), max(1, round(k * 0.6)))
    acc.adopted = sorted(core[:n_core] + other[: k - n_core])
    acc.feature_weights = [1.0 / (rank + 1) for rank in range(len(acc.adopted))]
    rng.shuffle(acc.feature_weights)
    # "Feature use fell off": the account's most used feature, any time after 6 weeks of use
    # to compare with.
    first = max(start, acc.created) + timedelta(days=42)
    span = (end - first).days
    if rng.random() < 0.2 and len(acc.adopted) > 2 and span > 14:
        top = max(range(len(acc.adopted)), key=lambda i: acc.feature_weights[i])
        acc.dropped_feature = acc.adopted[top]
        acc.drop_day = first + timedelta(days=rng.randint(0, span - 14))
        # The usage alert shows once a complete week without the feature has ended (the
        # Monday after it): an adoption check-in from then, maybe.
        first_week = acc.drop_day + timedelta(days=-acc.drop_day.weekday() % 7)
        _play(acc, "adoption_check_in", first_week + timedelta(days=7))


def _play(acc: Account, key: str, trigger_day: date) -> pl.Activity | None:
    owner = pl.owner_on(acc.csm_versions, trigger_day)
    activity = pl.open_activity(acc.play_rng, key, acc.account_id, acc.segment, trigger_day, owner)
    if activity is not None:
        acc.activities.append(activity)
    return activity


# Renewal check-ins of a term contract: days before its end.
CHECK_DAYS = (120, 90, 60, 30)


def _renew_probability(value: float) -> float:
    return 0.2 + 0.75 / (1 + math.exp(-10 * (value - 0.42)))


def _contracts(rng: random.Random, acc: Account, tables: dict, end: date) -> None:
    seg = acc.segment
    base = {"smb": (3000, 15000), "mid_market": (15000, 60000), "enterprise": (60000, 300000)}
    arr = round(rng.uniform(*base[seg]), -2)
    seats = max(1, round(acc.n_users * rng.uniform(1.0, 1.3)))
    open_ended = seg == "smb" and rng.random() < 0.7
    plan = rng.choice(cat.PLANS[seg])
    start = acc.created
    n = 0
    while start <= end:
        n += 1
        cid = f"ctr_{acc.account_id[4:]}_{n:02d}"
        signed = start - timedelta(days=rng.randint(0, 20))
        external = rng.random() < 0.04
        row = {
            "contract_id": cid,
            "account_id": acc.account_id,
            "plan": plan,
            "start_date": start.isoformat(),
            "end_date": None,
            "arr": f"{arr:.2f}",
            "seats": str(seats),
            "signed_at": ts(signed, rng.randint(9 * 3600, 17 * 3600)),
        }
        tables["contracts"].append(row)
        acc.contracts.append(row)
        if open_ended:
            # Monthly hazard of cancelling, higher when little value is realized.
            hazard = 0.003 + 0.035 * (1 - acc.value) ** 2
            month = _month_end(start)
            while month <= end + timedelta(days=45):
                if rng.random() < hazard or (external and rng.random() < 0.02):
                    break
                month = _month_end(month + DAY)
            if month > end + timedelta(days=45):
                acc.live.append((start, end))
                return
            stop = month
            _cancel(
                rng,
                acc,
                tables,
                cid,
                stop,
                stop - timedelta(days=rng.randint(5, 25)),
                external,
                end,
            )
        else:
            term = 730 if seg == "enterprise" and rng.random() < 0.2 else 365
            stop = start + timedelta(days=term - 1)
            row["end_date"] = stop.isoformat()
            # The renewal check-ins, drawn ahead: the first "no" or "not sure" is the trigger
            # of a renewal rescue, which may lift this renewal.
            checks = {
                d: (acc.play_rng.random() < 0.6, _answer(acc.play_rng, acc.value))
                for d in CHECK_DAYS
            }
            acc.checks[cid] = checks
            negative = [d for d, (asked, answer) in checks.items() if asked and answer != "yes"]
            if negative and stop - timedelta(days=negative[0]) <= end:
                _play(acc, "renewal_rescue", stop - timedelta(days=negative[0]))
            p, lifting = pl.renewal_lift(acc.activities, stop, _renew_probability(acc.value))
            if external:  # nothing a play does keeps it
                for activity in lifting:
                    activity.renewal_lift = 0.0
            renews = rng.random() < p and not external
            if renews:
                acc.live.append((start, stop))
                late = rng.random() < 0.15
                start = stop + timedelta(days=rng.randint(2, 25) if late else 1)
                if acc.value > 0.62 and rng.random() < 0.5:
                    arr = round(arr * rng.uniform(1.1, 1.6), -2)
                    seats = round(seats * rng.uniform(1.1, 1.4))
                elif acc.value < 0.45 and rng.random() < 0.5:
                    arr = round(arr * rng.uniform(0.6, 0.9), -2)
                    seats = max(1, round(seats * rng.uniform(0.7, 0.95)))
                continue
            if rng.random() < 0.07:  # ended early
                stop = start + timedelta(days=rng.randint(90, term - 30))
            if rng.random() < 0.7 or stop < row_end(row):
                notice = stop - timedelta(days=rng.randint(10, 60))
                if notice <= end:
                    _cancel(rng, acc, tables, cid, stop, notice, external, end)
        acc.live.append((start, min(stop, end)))
        if stop >= end:
            return
        acc.churn_days.append(stop + DAY)
        # A few churned customers come back later: a reactivation.
        if acc.value > 0.35 and rng.random() < 0.12:
            start = stop + timedelta(days=rng.randint(60, 240))
            continue
        return


def row_end(row: dict) -> date:
    return date.fromisoformat(row["end_date"]) if row["end_date"] else date.max


def _cancel(rng, acc, tables, cid, effective: date, notice: date, external: bool, end) -> None:
    if notice > end:
        return
    reason = rng.choice(cat.EXTERNAL_REASONS if external else cat.CONTROLLABLE_REASONS)
    tables["cancellations"].append(
        {
            "cancellation_id": f"cnl_{cid[4:]}",
            "contract_id": cid,
            "account_id": acc.account_id,
            "cancelled_at": ts(notice, rng.randint(8 * 3600, 18 * 3600)),
            "effective_date": effective.isoformat(),
            "reason_code": reason,
            "reason_category": "external" if external else "controllable",
        }
    )


def _goals(
    rng: random.Random, acc: Account, tables: dict, end: date, seed: int, start: date
) -> None:
    if rng.random() < 0.08 or not acc.live:
        return
    last_day = acc.live[-1][1]
    for g in range(rng.randint(1, 4)):
        t = rng.choice(cat.GOAL_TEMPLATES)
        title, category, kpi, unit, lo, hi, change = t
        # Goals are set at onboarding and then about yearly, on a calendar that does not
        # depend on the account's (future) renewals.
        baseline_date = acc.live[0][0] + timedelta(days=rng.randint(7, 45) + (g // 2) * 365)
        if baseline_date > end - timedelta(days=7) or not _in_live(acc, baseline_date):
            continue
        target_date = baseline_date + timedelta(days=rng.choice((90, 180, 270, 365)))
        baseline = round(rng.uniform(lo, hi), 2)
        target = round(baseline * (1 + change * rng.uniform(0.7, 1.3)), 2)
        if target == baseline:
            target = baseline + 1
        gid = f"gol_{acc.account_id[4:]}_{g + 1}"
        final = min(1.5, max(-0.35, rng.gauss(1.25 * acc.value - 0.1, 0.2)))
        product = pg.draw(seed, gid, acc, baseline_date, target_date, final, start)
        measured = []
        if rng.random() > 0.1:
            step = 30 if rng.random() < 0.5 else 91
            day = baseline_date + timedelta(days=step)
            stop = min(target_date + timedelta(days=30), end, last_day)
            span = (target_date - baseline_date).days
            m = 0
            while day <= stop:
                m += 1
                share = min(1.0, (day - baseline_date).days / span)
                progress = final * share**1.2 + rng.gauss(0, 0.04)
                progress += pl.goal_lift(acc.activities, day)
                value = round(baseline + progress * (target - baseline), 2)
                recorded = day + timedelta(days=rng.randint(0, 14))
                if recorded <= end:
                    measured.append(progress)
                    reading = {
                        "measurement_id": f"msr_{gid[4:]}_{m:03d}",
                        "goal_id": gid,
                        "measured_on": day.isoformat(),
                        "value": f"{value:.2f}",
                        "source": rng.choice(MEASUREMENT_SOURCES),
                        "recorded_at": ts(recorded, rng.randint(8 * 3600, 18 * 3600)),
                    }
                    if product is None:  # the product measures its goals itself
                        tables["goal_measurements"].append(reading)
                day += timedelta(days=step)
        status, confirmed = "active", None
        if target_date < end - timedelta(days=30):
            r = rng.random()
            if r < 0.05:
                status = "abandoned"
            elif r < 0.85:
                status = "closed"
                latest = measured[-1] if measured else final
                confirmed = (
                    "achieved"
                    if latest >= 0.95
                    else "partially_achieved"
                    if latest >= 0.35
                    else "missed"
                )
                if rng.random() < 0.12:
                    confirmed = rng.choice(CONFIRMED_OUTCOMES)
        created = ts(baseline_date, rng.randint(8 * 3600, 18 * 3600))
        updated = min(end, target_date + timedelta(days=10)) if status != "active" else None
        row = {
            "goal_id": gid,
            "account_id": acc.account_id,
            "title": title,
            "outcome_category": category,
            "kpi_name": kpi,
            "kpi_unit": unit,
            "baseline_value": f"{baseline:.2f}",
            "target_value": f"{target:.2f}",
            "baseline_date": baseline_date.isoformat(),
            "target_date": target_date.isoformat(),
            "weight": f"{rng.choice((1, 1, 2, 3)):.2f}",
            "status": status,
            "customer_confirmed_outcome": confirmed,
            "created_at": created,
            "updated_at": ts(updated, 12 * 3600) if updated else created,
        }
        if product is not None:  # baseline and target follow from the events
            row.update(product.row)
            product.row = row
            acc.product_goals.append(product)
        tables["customer_goals"].append(row)


def _answer(rng: random.Random, value: float) -> str:
    score = value + rng.gauss(0, 0.15)
    return "yes" if score > 0.55 else "no" if score < 0.28 else "not_sure"


def _intents(rng: random.Random, acc: Account, tables: dict, end: date) -> None:
    n = 0
    for row in acc.contracts:
        start = date.fromisoformat(row["start_date"])
        if row["end_date"]:
            stop = date.fromisoformat(row["end_date"])
            # Drawn for the stream's sake; the contract drew the check-ins (and answers).
            drawn = {d: rng.random() < 0.6 for d in CHECK_DAYS}
            contract_id = row["contract_id"]
            checks = acc.checks.get(contract_id, {d: (a, None) for d, a in drawn.items()})
            asks = [stop - timedelta(days=d) for d, (asked, _) in checks.items() if asked]
        else:
            asks = [start + timedelta(days=d) for d in range(90, 1500, 91) if rng.random() < 0.3]
            contract_id, checks = None, {}
        for asked in asks:
            if asked > end or not _in_live(acc, asked):
                continue
            n += 1
            answer = _answer(rng, acc.value)
            if contract_id:
                answer = checks[(stop - asked).days][1] or answer
            tables["renewal_intents"].append(
                {
                    "checkin_id": f"chk_{acc.account_id[4:]}_{n:03d}",
                    "account_id": acc.account_id,
                    "contract_id": contract_id,
                    "asked_on": asked.isoformat(),
                    "answer": answer,
                    "notes": rng.choice(cat.INTENT_NOTES) if rng.random() < 0.3 else None,
                }
            )


def _in_live(acc: Account, day: date) -> bool:
    return any(a <= day <= b for a, b in acc.live)


def _surveys(rng, acc, tables, users, user_account, start, end) -> None:
    mine = acc.users
    # Relationship NPS survey every March and September; most users do not answer.
    for year in range(start.year, end.year + 1):
        for month in (3, 9):
            day = date(year, month, 10)
            if not (start <= day <= end) or not _in_live(acc, day):
                continue
            decided = False
            for u in mine:
                if u["created_at"][:10] > day.isoformat() or rng.random() > 0.3:
                    continue
                mean = 7.8 + 1.2 * (acc.value - 0.5) + 1.6 * (acc.usage - 0.5)
                score = min(10, max(0, round(rng.gauss(mean, 2.0))))
                comment = rng.choice(cat.NPS_COMMENTS) if rng.random() < 0.25 else None
                if comment and rng.random() < 0.1:
                    comment += f" - reach me at {u['email']}"
                responded = day + timedelta(days=rng.randint(0, 14))
                if responded > end:
                    continue
                if score <= 6 and not decided:  # the wave's first detractor: a follow-up?
                    decided = True
                    _play(acc, "detractor_follow_up", responded)
                tables["nps_responses"].append(
                    {
                        "response_id": f"nps_{len(tables['nps_responses']) + 1:07d}",
                        "account_id": acc.account_id,
                        "user_id": u["user_id"] if rng.random() > 0.1 else None,
                        "score": str(score),
                        "comment": comment,
                        "responded_at": ts(responded, rng.randint(0, 86399)),
                    }
                )
    # CSAT after touchpoints (support tickets, onboarding, training, business reviews).
    for a, b in acc.live:
        day = max(a, start)
        while day <= min(b, end):
            day += timedelta(days=rng.randint(10, 60))
            if day > min(b, end) or rng.random() > 0.5 or not mine:
                continue
            u = rng.choice(mine)
            score = min(5, max(1, round(rng.gauss(3.9 + 2.4 * (acc.value - 0.5), 0.9))))
            tables["csat_responses"].append(
                {
                    "response_id": f"cst_{len(tables['csat_responses']) + 1:07d}",
                    "account_id": acc.account_id,
                    "user_id": u["user_id"] if rng.random() > 0.2 else None,
                    "score": str(score),
                    "touchpoint": rng.choices(TOUCHPOINTS, (8, 2, 2, 1, 1))[0],
                    "responded_at": ts(day, rng.randint(0, 86399)),
                }
            )
