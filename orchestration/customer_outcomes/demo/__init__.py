"""Believable, deterministic demo data in the landing layout of the raw contract
(docs/raw-contract.md).

``generate()`` writes ``<out>/<table>/*.csv`` for every contract table, and the generator's
hidden truth to ``<out>/_truth/``: cohort labels and latent value (``accounts.csv``), the
plays' true effects (``play_effects.csv``, see ``plays.py``). The loader skips
folders starting with ``_``; only tests read the truth, never a model.
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..contract import TABLES
from .entities import build_world
from .events import write_events
from .plays import truth as play_truth
from .product_goals import set_baselines

TRUTH_DIR = "_truth"


@dataclass(frozen=True)
class DemoSpec:
    accounts: int = 500
    days: int = 730
    seed: int = 42
    end_date: date | None = None  # default: today (UTC)

    @property
    def end(self) -> date:
        return self.end_date or date.today()


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return len(rows)


def generate(
    spec: DemoSpec, out: Path, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Write the demo landing directory; returns the row count per table."""
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    if spec.accounts < 1 or spec.days < 60:
        raise ValueError("need at least 1 account and 60 days")
    for name in [*TABLES, TRUTH_DIR]:
        if (out / name).exists():
            shutil.rmtree(out / name)
    say(f"generating {spec.accounts} accounts over {spec.days} days ending {spec.end} ...")
    world = build_world(spec.accounts, spec.days, spec.seed, spec.end)
    counts: dict[str, int] = {}
    for name, rows in world.tables.items():
        columns = TABLES[name].column_names
        if name == "accounts":  # initial CRM export plus a later batch of updated versions
            first = [r for r in rows if "_batch" not in r]
            updates = [r for r in rows if "_batch" in r]
            counts[name] = _write_csv(out / name / "accounts_initial.csv", columns, first)
            counts[name] += _write_csv(out / name / "accounts_updates.csv", columns, updates)
        elif name != "customer_goals":  # written once the events set its product baselines
            counts[name] = _write_csv(out / name / f"{name}.csv", columns, rows)
        if name in counts:
            say(f"{name}: {counts[name]:,} rows")
    counts["usage_events"] = write_events(world, out / "usage_events", spec.seed, say)
    set_baselines(world.product_goals, out / "usage_events")
    goals = world.tables["customer_goals"]
    columns = TABLES["customer_goals"].column_names
    counts["customer_goals"] = _write_csv(
        out / "customer_goals" / "customer_goals.csv", columns, goals
    )
    n_product = len(world.product_goals)
    say(f"customer_goals: {counts['customer_goals']:,} rows ({n_product} product-measured)")
    truth = [
        {
            "account_id": a.account_id,
            "cohort": a.cohort,
            "latent_value": f"{a.value:.4f}",
            "usage_level": f"{a.usage:.4f}",
        }
        for a in world.accounts
    ]
    _write_csv(out / TRUTH_DIR / "accounts.csv", list(truth[0]), truth)
    effects = play_truth(world.activities, spec.end)
    _write_csv(out / TRUTH_DIR / "play_effects.csv", list(effects[0]), effects)
    return counts
