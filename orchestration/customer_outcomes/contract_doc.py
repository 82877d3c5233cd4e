"""docs/raw-contract.md, written from the contract as code (``outcomes contract-doc``).

The tables and columns come from ``contract.py``; the rules the loader adds (cross-field rules,
columns required when another has a value, what a re-delivery does) from the modules that
apply them, so the page says what the load checks. A test keeps the committed page in step.
"""

from __future__ import annotations

from pathlib import Path

from .config import PROJECT_DIR
from .contract import TABLES, Column, Table, product_metrics
from .gx_suites import PAIR_RULES, REQUIRED_WHEN
from .load import REDELIVERY_COLUMNS, REPLACED_ON_REDELIVERY, VERSION_COLUMNS

DOC_PATH = PROJECT_DIR / "docs" / "raw-contract.md"

INTRO = """\
# The raw data contract

<!-- Written by `outcomes contract-doc` from orchestration/customer_outcomes/contract.py;
edit the contract there, then run the command. A test checks this page is current. -->

What `outcomes load` (and `outcomes validate`, without loading) accepts. Each table is a folder
of the landing directory, `<landing>/<table>/`, holding any number of UTF-8 CSV files with a
header, or Parquet files; files load in name order, each once (a file whose content was loaded
before is skipped). Dates are ISO-8601 (`2026-03-01`), times ISO-8601 in UTC or with an offset.

- A file is **rejected whole** (nothing of it loads, it stays pending until fixed) when it
  cannot be parsed, lacks a required column, or has a column none of whose values parse as the
  column's type. Unknown extra columns are reported and ignored; a missing optional column
  loads as null.
- A **row** that breaks a rule below goes to `raw._quarantine` with its table, file, rule,
  column and the original row; the rest of the file loads. `outcomes quarantine` lists them,
  `outcomes quarantine --table <table> --export fix.csv` writes them out to correct and
  deliver again.
- Every table's rules also include: a value must parse as its type; a reference must name a
  row already loaded (tables load in the order of this page); a key delivered again with other
  content is a conflict (quarantined), except where the table says otherwise.
- Columns marked personal data never reach the marts in clear: staging hashes emails and
  owners with a salt (`OUTCOMES_PII_SALT`) and redacts emails in free text.
"""


def _rule(table: Table, col: Column) -> str:
    rules = []
    if col.accepted:
        rules.append("one of " + ", ".join(f"`{v}`" for v in col.accepted))
    if col.min is not None and col.max is not None:
        rules.append(f"{col.min:g} to {col.max:g}")
    elif col.min is not None:
        rules.append(f"at least {col.min:g}")
    elif col.max is not None:
        rules.append(f"at most {col.max:g}")
    if col.name in table.foreign_keys:
        ref_table, ref_key = table.foreign_keys[col.name]
        rules.append(f"refers to `{ref_table}.{ref_key}`")
    condition = REQUIRED_WHEN.get((table.name, col.name))
    if condition:
        rules.append(f"required when `{condition[0]} = {condition[1]}`")
    if table.name == "customer_goals" and col.name == "product_metric":
        metrics = ", ".join(
            f"`{key}:<feature_key>`" if takes else f"`{key}`"
            for key, takes in product_metrics().items()
        )
        rules.append(f"a metric of `seeds/product_metrics.csv`: {metrics}")
    if col.personal:
        rules.append("personal data")
    return "; ".join(rules)


def _table(table: Table) -> list[str]:
    key = ", ".join(f"`{k}`" for k in table.primary_key)
    lines = [f"## `{table.name}` ({table.system})", "", table.description, "", f"Key: {key}."]
    if table.name in VERSION_COLUMNS:
        lines[-1] += (
            f" A row is a version: a key delivered again with a later "
            f"`{VERSION_COLUMNS[table.name]}` is an update: the latest version is current, "
            "and a past date sees the version in force then."
        )
    if table.name in REDELIVERY_COLUMNS:
        columns = ", ".join(f"`{c}`" for c in sorted(REDELIVERY_COLUMNS[table.name]))
        lines[-1] += f" A key delivered again may differ only in {columns}."
    if table.name in REPLACED_ON_REDELIVERY:
        lines[-1] += (
            " A key delivered again in a later file replaces the loaded row (the latest load"
            " wins); the same key twice in one file with other content is a conflict."
        )
    lines += ["", "| column | type | required | rule |", "|---|---|---|---|"]
    for col in table.columns:
        required = "yes" if col.required else ""
        lines.append(f"| `{col.name}` | {col.type} | {required} | {_rule(table, col)} |")
    pairs = PAIR_RULES.get(table.name, [])
    if pairs or table.name == "customer_goals":
        lines.append("")
        for _name, a, b, or_equal in pairs:
            if a == "received_at_plus_1_day":
                lines.append("- `occurred_at` at most 1 day after `received_at`.")
            else:
                lines.append(f"- `{a}` {'>=' if or_equal else '>'} `{b}` (when both are set).")
        if table.name == "customer_goals":
            lines.append("- `target_value` differs from `baseline_value`; `weight` above 0.")
    return lines


def render() -> str:
    """The page's text."""
    lines = [INTRO.rstrip("\n")]
    for table in TABLES.values():
        lines += ["", *_table(table)]
    return "\n".join(lines) + "\n"


def write(path: Path = DOC_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render())
    return path
