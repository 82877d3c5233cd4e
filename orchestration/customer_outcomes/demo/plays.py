"""The plays CSMs run in the demo (raw table ``cs_activities``), and their hidden effects.

CSMs run a play when an account shows its trigger (a renewal check-in answered "no" or "not
sure", an NPS detractor, a feature's use falling off), so the treated accounts are the ones
that look worst: comparing treated with untreated accounts is confounded on purpose. Given the
trigger's first showing, whether a CSM acts depends only on the segment (enterprise accounts
get more attention), which the warehouse sees. Each play has a true effect on the renewal
probability of the account's next renewal and on its goals' progress (ramping up over the 4
weeks after the play), by segment. Detractor follow-ups are drawn after the renewals and goal
readings, so they change nothing: the play with no effect. The truth per play, averaged over
the activities generated, goes to ``<landing>/_truth/play_effects.csv`` for the tests only.

Plays draw from their own random stream, so the rest of the data set stays the same draw for
draw: only the renewals, goal readings and renewal check-ins the plays touch change.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Play:
    key: str
    trigger_type: str
    # By segment: the chance a CSM runs it when the trigger shows, and its true effects.
    chance: dict[str, float]
    renewal_effect: dict[str, float]
    goal_effect: dict[str, float]


def _by_segment(smb: float, mid_market: float, enterprise: float) -> dict[str, float]:
    return {"smb": smb, "mid_market": mid_market, "enterprise": enterprise}


PLAYS = {
    p.key: p
    for p in (
        Play(
            "renewal_rescue",
            "intent_negative",
            _by_segment(0.35, 0.5, 0.7),
            _by_segment(0.08, 0.12, 0.18),
            _by_segment(0.03, 0.05, 0.05),
        ),
        Play(
            "adoption_check_in",
            "feature_use_fell_off",
            _by_segment(0.4, 0.5, 0.6),
            _by_segment(0.02, 0.03, 0.04),
            _by_segment(0.04, 0.06, 0.08),
        ),
        Play(
            "detractor_follow_up",
            "detractor_response",
            _by_segment(0.1, 0.15, 0.2),
            _by_segment(0.0, 0.0, 0.0),
            _by_segment(0.0, 0.0, 0.0),
        ),
    )
}
# Days over which a play's effect on goal progress builds up.
RAMP_DAYS = 28
# A play's renewal effect reaches the account's renewals within this many days after it.
RENEWAL_REACH_DAYS = 365


@dataclass
class Activity:
    play: Play
    account_id: str
    segment: str
    opened: date
    owner: str | None
    # The renewal probability the play added to the renewal it reached (None: none reached).
    renewal_lift: float | None = None


def play_rng(seed: int, account_index: int) -> random.Random:
    return random.Random(seed * 1_000_003 + account_index)


def open_activity(
    rng: random.Random,
    key: str,
    account_id: str,
    segment: str,
    trigger_day: date,
    owner: str | None,
) -> Activity | None:
    """The play ``key`` on the trigger of ``trigger_day``, if a CSM runs it (more often in the
    bigger segments)."""
    play = PLAYS[key]
    if rng.random() >= play.chance[segment]:
        return None
    opened = trigger_day + timedelta(days=rng.randint(1, 10))
    return Activity(play, account_id, segment, opened, owner)


def goal_lift(activities: list[Activity], day: date) -> float:
    """What the plays opened before ``day`` add to a goal's progress on that day."""
    lift = 0.0
    for a in activities:
        if a.opened < day:
            lift += a.play.goal_effect[a.segment] * min(1.0, (day - a.opened).days / RAMP_DAYS)
    return lift


def renewal_lift(
    activities: list[Activity], renewal_day: date, p: float
) -> tuple[float, list[Activity]]:
    """The renewal probability with the effects of the plays opened in the year before the
    renewal (capped at 0.97), and those plays: each lifts one renewal, its first."""
    lifting = []
    for a in activities:
        reaches = a.opened < renewal_day <= a.opened + timedelta(days=RENEWAL_REACH_DAYS)
        if reaches and a.renewal_lift is None:
            lifted = min(0.97, p + a.play.renewal_effect[a.segment])
            a.renewal_lift, p = lifted - p, lifted
            lifting.append(a)
    return p, lifting


def rows(
    rng: random.Random, activities: list[Activity], end: date, ts: Callable[[date, int], str]
) -> list[dict]:
    """The cs_activities rows: closed 2-6 weeks after opening when that is past, else open."""
    out = []
    for n, a in enumerate(sorted(activities, key=lambda a: (a.account_id, a.opened)), 1):
        if a.opened > end:
            continue
        closed = a.opened + timedelta(days=rng.randint(14, 42))
        done = closed <= end
        out.append(
            {
                "activity_id": f"act_{a.account_id[4:]}_{n:04d}",
                "account_id": a.account_id,
                "play_key": a.play.key,
                "trigger_type": a.play.trigger_type,
                "owner": a.owner,
                "opened_at": ts(a.opened, rng.randint(9 * 3600, 17 * 3600)),
                "closed_at": ts(closed, rng.randint(9 * 3600, 17 * 3600)) if done else None,
                "outcome": (
                    ("completed" if rng.random() < 0.85 else "abandoned") if done else None
                ),
            }
        )
    return out


def truth(activities: list[Activity], end: date) -> list[dict]:
    """Per play, the mean true effect over its activities: on the renewal probability of the
    renewals they reached (0 for an activity whose account had none), and on goal progress."""
    out = []
    for key, play in PLAYS.items():
        mine = [a for a in activities if a.play.key == key and a.opened <= end]
        n = max(1, len(mine))
        out.append(
            {
                "play_key": key,
                "true_effect_renewal": f"{sum(a.renewal_lift or 0.0 for a in mine) / n:.4f}",
                "true_effect_goal_progress": (
                    f"{sum(play.goal_effect[a.segment] for a in mine) / n:.4f}"
                ),
            }
        )
    return out


def owner_on(versions: list[tuple[date, str | None]], day: date) -> str | None:
    """The account's CSM on ``day`` (its CRM versions, oldest first)."""
    owner = versions[0][1]
    for since, email in versions:
        if since <= day:
            owner = email
    return owner
