"""Shared fixtures: a small demo landing directory and a warehouse built from it by dbt.

The build runs ``dbt build`` (every model, data test and unit test, with the renewal model
between its two halves) once per pytest run, shared by its processes; tests that only read open
the DuckDB file read-only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from customer_outcomes.config import Settings
from customer_outcomes.dbt import build_project, scoped_env
from customer_outcomes.demo import DemoSpec, generate
from customer_outcomes.load import load_landing

AS_OF = "2026-06-30"
SMALL = DemoSpec(accounts=400, days=540, seed=7, end_date=date.fromisoformat(AS_OF))


BUILT_TARGET: list[Path] = []
# The files collected first. Under `pytest -n 2 --dist loadfile --no-loadscope-reorder`
# (make test) each process starts with two files in this order, one each in turn: one process
# builds the shared warehouse (`built`, about 40 s) with a short file that reads it, the other
# runs the six days of the nightly refresh (the longest file, about six minutes). The later
# files go to whichever process is free, and find the warehouse built.
FIRST = ("test_revenue_marts.py", "test_daily_refresh.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: order.get(item.path.name, len(FIRST)))


@pytest.fixture(scope="session", autouse=True)
def _dbt_paths_of_this_process(tmp_path_factory):
    """dbt's target/ and logs/ for this test process, never the checkout's nor a folder the
    shell names: under ``pytest -n 2`` two processes run dbt at once, and a shared target/
    (manifest, partial parse) would be written by both."""
    root = tmp_path_factory.mktemp("dbt")
    os.environ["DBT_TARGET_PATH"] = str(root / "target")
    os.environ["DBT_LOG_PATH"] = str(root / "logs")


def _shared(tmp_path_factory, name: str) -> tuple[Path, FileLock]:
    """A folder every test process of this pytest run shares (pytest-xdist's workers each have
    a base temp folder below a common one), and a lock to make it once. With OUTCOMES_TEST_SHARED
    set, that folder instead: `.ci/run` gives `make test` and `make test-postgres` the same one,
    so the two suites build the demo warehouse once between them."""
    shared = os.environ.get("OUTCOMES_TEST_SHARED")
    if shared:
        root = Path(shared)
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = root.parent
    return root / name, FileLock(str(root / f"{name}.lock"))


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    out, lock = _shared(tmp_path_factory, "small_landing")
    with lock:
        if not (out / ".done").exists():
            generate(SMALL, out, progress=lambda _: None)
            (out / ".done").touch()
    return out


@pytest.fixture(scope="session")
def built(tmp_path_factory, small_landing) -> Settings:
    """A warehouse loaded from the small landing data and built by ``dbt build``, once for all
    test processes (tests read it, or copy it to change it)."""
    root, lock = _shared(tmp_path_factory, "built")
    settings = Settings(
        landing=small_landing,
        warehouse=root / "warehouse.duckdb",
        serve=root / "serve.duckdb",
    )
    BUILT_TARGET.append(root / "target")
    with lock:
        if not (root / ".done").exists():
            root.mkdir(parents=True, exist_ok=True)
            results = load_landing(settings.warehouse, settings.landing, progress=lambda _: None)
            assert all(r.status == "loaded" for r in results)
            env = {"DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
            with scoped_env(env):
                code = build_project(settings, as_of=AS_OF, echo=False)
            assert code == 0, "dbt build failed on the demo data; run `outcomes build` to see why"
            (root / ".done").touch()
    return settings


@pytest.fixture
def read_only(built):
    con = duckdb.connect(str(built.warehouse), read_only=True)
    yield con
    con.close()


@contextmanager
def another_writer(warehouse: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the warehouse open for writing (a run in progress)."""
    script = "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('open', flush=True); "
    script += "sys.stdin.read()"
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert writer.stdout.readline() == b"open\n"
        yield writer
    finally:
        writer.communicate(b"")
