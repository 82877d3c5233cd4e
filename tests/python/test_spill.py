"""Spill disk and memory: the warning before a full build that may not fit on disk, and what a
build failing for want of memory or spill disk tells its user (customer_outcomes.spill)."""

from __future__ import annotations

import os
import stat
import sys

import duckdb
import pytest

from customer_outcomes import cli, spill
from customer_outcomes import dbt as dbt_module
from customer_outcomes.config import Settings


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("OUTCOMES_TEMP_DIR", str(tmp_path / "spill"))
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "2GB")
    return Settings(tmp_path / "landing", tmp_path / "warehouse.duckdb", tmp_path / "serve.duckdb")


def duckdb_error(tmp_path, setup: str, query: str) -> str:
    """The message of a real DuckDB failure under the given settings."""
    con = duckdb.connect(str(tmp_path / "oom.duckdb"))
    con.execute(setup)
    with pytest.raises(duckdb.OutOfMemoryException) as caught:
        con.execute(query).fetchall()
    con.close()
    return str(caught.value)


def test_spill_disk_full_is_explained_as_disk(tmp_path, settings):
    # DuckDB's own message when the spill directory is full (capped here at 1MB).
    message = duckdb_error(
        tmp_path,
        f"set memory_limit = '20MB'; set threads = 1; set temp_directory = '{tmp_path}/t';"
        " set max_temp_directory_size = '1MB';"
        " create table t as select repeat('x', 50) || range as s from range(3000000)",
        "select s, count(*) from t group by s order by s",
    )
    hint = spill.resource_failure_hint(["12:00:00  Runtime Error", *message.splitlines()], settings)
    assert hint.startswith("DuckDB ran out of spill disk (Out of Memory Error: failed to offload")
    assert f"{tmp_path / 'spill'} (OUTCOMES_TEMP_DIR)" in hint
    assert "memory_limit 2GB (OUTCOMES_MEMORY_LIMIT)" in hint
    assert "GB free now" in hint and "Free disk" in hint


def test_memory_failure_is_explained_as_memory(tmp_path, settings):
    message = duckdb_error(
        tmp_path,
        "set memory_limit = '1MB'; set threads = 1",
        "select list(range) from range(1000000)",
    )
    hint = spill.resource_failure_hint(message.splitlines(), settings)
    assert hint.startswith("DuckDB ran out of memory (Out of Memory Error: failed to allocate")
    assert "Raise OUTCOMES_MEMORY_LIMIT, or lower OUTCOMES_THREADS" in hint
    assert "Free disk" not in hint


def test_no_space_left_on_device_is_disk(settings):
    hint = spill.resource_failure_hint(
        ["IO Error: Could not write file: No space left on device"], settings
    )
    assert hint.startswith("DuckDB ran out of spill disk (IO Error")


def test_other_failures_get_no_hint(settings):
    lines = ["Runtime Error in model x", "Binder Error: column y not found", "Done. ERROR=1"]
    assert spill.resource_failure_hint(lines, settings) is None


def make_warehouse(path, events: int, built: bool) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute(f"create table raw.usage_events as select range as event_id from range({events})")
    if built:
        con.execute("create schema marts")
        con.execute("create table marts.fct_account_usage_daily (usage_date date)")
    con.close()


def test_full_build_warning_when_the_spill_may_not_fit(settings, monkeypatch):
    make_warehouse(settings.warehouse, 2_000_000, built=True)
    monkeypatch.setattr(spill, "free_gb", lambda path: 0.5)
    # 2 M events x 0.35 GB = 0.7 GB needed, 0.5 GB free.
    plan = spill.plan_build(settings, ["build", "--full-refresh"])
    assert plan.events == 2_000_000
    assert plan.notes == [
        "warning: a full build of 2,000,000 events may spill up to about 0.7 GB to "
        f"{settings.warehouse.parent / 'spill'} (OUTCOMES_TEMP_DIR), whose disk has 0.5 GB "
        "free. If it fills up the build fails with DuckDB's 'Out of Memory Error'. Free disk, "
        "point OUTCOMES_TEMP_DIR at a larger disk, or raise OUTCOMES_MEMORY_LIMIT."
    ]
    # An incremental build of built models reads only the new events: nothing to say.
    assert spill.plan_build(settings, ["build"]) == spill.BuildPlan(
        None, [], [], {"OUTCOMES_QUERY_THREADS": "1"}
    )
    monkeypatch.setattr(spill, "free_gb", lambda path: 0.8)
    assert spill.plan_build(settings, ["build", "--full-refresh"]).notes == []


def test_first_build_counts_as_full(settings, monkeypatch):
    make_warehouse(settings.warehouse, 2_000_000, built=False)
    monkeypatch.setattr(spill, "free_gb", lambda path: 0.5)
    plan = spill.plan_build(settings, ["run"])
    assert plan.events == 2_000_000 and plan.notes[0].startswith("warning:")


def test_a_history_larger_than_memory_builds_one_node_at_a_time(settings, monkeypatch):
    make_warehouse(settings.warehouse, 2_000_000, built=True)
    # 2 M events x 150 bytes = 300 MB: more than 250MB, less than 350MB.
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "250MB")
    plan = spill.plan_build(settings, ["build", "--full-refresh", "--select", "x"])
    assert plan.extra_args == ["--threads", "1"]
    assert plan.notes[-1].startswith(
        "a full build of 2,000,000 events, more than fit in memory_limit 250MB: dbt runs one "
        "node at a time"
    )
    assert spill.plan_build(settings, ["build", "--full-refresh"], "350MB").extra_args == []
    # An explicit choice stands; an incremental build keeps the profile's dbt threads.
    assert (
        spill.plan_build(settings, ["build", "--full-refresh", "--threads", "2"]).extra_args == []
    )
    assert spill.plan_build(settings, ["build", "--full-refresh", "--threads=2"]).extra_args == []
    assert spill.plan_build(settings, ["build"]).extra_args == []
    assert spill.plan_build(settings, ["test", "--full-refresh"]) == spill.BuildPlan(None, [], [])
    monkeypatch.setenv("OUTCOMES_TARGET", "postgres")
    assert spill.plan_build(settings, ["build", "--full-refresh"]) == spill.BuildPlan(None, [], [])


def test_incremental_builds_divide_duckdb_threads_among_dbt_threads(settings, monkeypatch):
    monkeypatch.delenv("OUTCOMES_QUERY_THREADS", raising=False)
    monkeypatch.delenv("OUTCOMES_THREADS", raising=False)
    make_warehouse(settings.warehouse, 1_000, built=True)

    def query_threads(*args: str) -> dict[str, str]:
        return spill.plan_build(settings, ["build", *args]).env

    # 2 threads (the default) for dbt and for DuckDB: one DuckDB thread per query.
    assert query_threads() == {"OUTCOMES_QUERY_THREADS": "1"}
    assert spill.plan_build(settings, ["run"]).env == {"OUTCOMES_QUERY_THREADS": "1"}
    # One dbt thread gets both; 8 cores and 3 dbt threads: 8 // 3 = 2 each.
    assert query_threads("--threads", "1") == {"OUTCOMES_QUERY_THREADS": "2"}
    monkeypatch.setenv("OUTCOMES_THREADS", "8")
    assert query_threads("--threads=3") == {"OUTCOMES_QUERY_THREADS": "2"}
    assert query_threads() == {"OUTCOMES_QUERY_THREADS": "1"}
    assert query_threads("--threads", "16") == {"OUTCOMES_QUERY_THREADS": "1"}
    # The user's own value stands.
    monkeypatch.setenv("OUTCOMES_QUERY_THREADS", "4")
    assert query_threads() == {}
    monkeypatch.delenv("OUTCOMES_QUERY_THREADS")
    # A full refresh and a first build read the whole history: each query keeps all threads.
    assert query_threads("--full-refresh") == {}
    make_warehouse(settings.warehouse.with_name("first.duckdb"), 1_000, built=False)
    first = Settings(settings.landing, settings.warehouse.with_name("first.duckdb"), settings.serve)
    assert spill.plan_build(first, ["build"]).env == {}
    assert spill.plan_build(settings, ["test"]).env == {}


def test_the_plugin_opens_duckdb_with_the_threads_asked_for(tmp_path, monkeypatch):
    """dbt-duckdb passes the profile's config_options through the plugins before it opens the
    database (profiles.yml); the value reaches DuckDB."""
    import yaml
    from dbt.adapters.duckdb.plugins import BasePlugin

    from customer_outcomes.config import PROJECT_DIR

    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    plugins = profile["customer_outcomes"]["outputs"]["duckdb"]["plugins"]
    assert "customer_outcomes.dbt_query_threads" in [p["module"] for p in plugins]

    plugin = BasePlugin.create("customer_outcomes.dbt_query_threads", config={})

    def opened_threads() -> int:
        config = {"threads": 2, "memory_limit": "1GB"}
        plugin.update_connection_config(None, config)
        con = duckdb.connect(str(tmp_path / "w.duckdb"), config=config)
        try:
            return con.execute("select current_setting('threads')").fetchone()[0]
        finally:
            con.close()

    monkeypatch.delenv("OUTCOMES_QUERY_THREADS", raising=False)
    assert opened_threads() == 2  # the profile's
    monkeypatch.setenv("OUTCOMES_QUERY_THREADS", "1")
    assert opened_threads() == 1
    monkeypatch.setenv("OUTCOMES_QUERY_THREADS", "0")
    with pytest.raises(ValueError, match="OUTCOMES_QUERY_THREADS must be a positive integer"):
        opened_threads()


def test_size_bytes():
    assert spill.size_bytes("3GB") == 3_000_000_000
    assert spill.size_bytes("1.5GB") == 1_500_000_000
    assert spill.size_bytes("1500MB") == 1_500_000_000
    assert spill.size_bytes("2GiB") == 2 * 2**30
    assert spill.size_bytes(" 512 mb ") == 512_000_000
    with pytest.raises(ValueError, match="not a DuckDB size"):
        spill.size_bytes("lots")


def test_no_plan_without_a_readable_warehouse(settings, monkeypatch):
    monkeypatch.setattr(spill, "free_gb", lambda path: 0.0)
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "1MB")
    assert spill.plan_build(settings, ["build", "--full-refresh"]) == spill.BuildPlan(None, [], [])
    settings.warehouse.write_text("not a database")
    assert spill.plan_build(settings, ["build", "--full-refresh"]) == spill.BuildPlan(None, [], [])


def test_free_gb_of_a_directory_not_created_yet(tmp_path):
    assert spill.free_gb(tmp_path / "not" / "yet") > 0


def fake_dbt(tmp_path, monkeypatch, outputs: dict[str, tuple[str, int]]):
    """A dbt executable that prints outputs[command][0] and exits with outputs[command][1]
    (command: build, run, retry...); the argument lists it was called with, one per line."""
    calls = tmp_path / "calls"
    fake = tmp_path / "dbt"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "command = [a for a in sys.argv[1:] if not a.startswith('--')][0]\n"
        f"text, code = {outputs!r}[command]\n"
        "print(text)\nraise SystemExit(code)\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(dbt_module, "dbt_executable", lambda: str(fake))
    return lambda: calls.read_text().splitlines() if calls.exists() else []


OOM = (
    "Runtime Error\n  Out of Memory Error: failed to pin block of size 256.0 KiB "
    "(2.7 GiB/2.7 GiB used)"
)
DISK_FULL = (
    "Runtime Error\n  Out of Memory Error: failed to offload data block of size 256.0 KiB "
    "(max_temp_directory_size 1.0 MiB)"
)


def test_run_dbt_prints_the_hint_after_a_resource_failure(tmp_path, settings, monkeypatch, capsys):
    # Out of memory in the build and again in its retry: the retry's code, and the hint.
    calls = fake_dbt(tmp_path, monkeypatch, {"build": (OOM, 2), "retry": (OOM, 1)})
    assert dbt_module.run_dbt(settings, ["build"], echo=False) == 1
    err = capsys.readouterr().err
    assert "the failed and skipped nodes run once more (dbt retry)" in err
    assert "DuckDB ran out of memory (Out of Memory Error: failed to pin block" in err
    assert [c.split()[1] for c in calls()] == ["build", "retry"]

    (tmp_path / "calls").unlink()
    fake_dbt(tmp_path, monkeypatch, {"build": ("Done. ERROR=1", 1)})
    assert dbt_module.run_dbt(settings, ["build"], echo=False) == 1
    assert "DuckDB ran out" not in capsys.readouterr().err


def test_run_dbt_retries_once_what_ran_out_of_memory(tmp_path, settings, monkeypatch, capsys):
    """DuckDB's out-of-memory failures in queries that spill have passed when run again (the
    weekly adoption in a 100 M full build): the build runs its failed and skipped nodes once
    more with `dbt retry` (same arguments, from run_results.json), and succeeds if they do."""
    calls = fake_dbt(tmp_path, monkeypatch, {"build": (OOM, 1), "retry": ("Done. ERROR=0", 0)})
    assert dbt_module.run_dbt(settings, ["build", "--full-refresh"], echo=False) == 0
    err = capsys.readouterr().err
    assert "dbt build: DuckDB ran out of memory in a query that spills" in err
    assert "DuckDB ran out of memory (" not in err  # no hint: the build passed
    build, retry = calls()
    assert build.startswith("--no-use-colors build --full-refresh --project-dir")
    assert retry.split() == ["--no-use-colors", "retry", *dbt_module.PROJECT_ARGS]


@pytest.mark.parametrize(
    ("output", "why"),
    [
        (DISK_FULL, "a full spill disk fails again: free disk first"),
        ("Compilation Error in model x", "not a resource failure"),
        ("Done. PASS=3 ERROR=1", "a failing test or model"),
    ],
)
def test_run_dbt_does_not_retry_other_failures(tmp_path, settings, monkeypatch, output, why):
    calls = fake_dbt(tmp_path, monkeypatch, {"build": (output, 1), "retry": ("", 0)})
    assert dbt_module.run_dbt(settings, ["build"], echo=False) == 1, why
    assert [c.split()[1] for c in calls()] == ["build"], why


def test_run_dbt_builds_a_large_history_one_node_at_a_time(tmp_path, settings, monkeypatch):
    make_warehouse(settings.warehouse, 2_000_000, built=True)
    monkeypatch.setenv("OUTCOMES_MEMORY_LIMIT", "250MB")
    argv = tmp_path / "argv"
    fake = tmp_path / "dbt"
    # The fake dbt writes its arguments and the DuckDB threads per query it was given.
    fake.write_text(
        f"#!{sys.executable}\nimport os, sys\nopen({str(argv)!r}, 'w').write(' '.join(sys.argv[1:])"
        " + ' | ' + os.environ.get('OUTCOMES_QUERY_THREADS', '-'))\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(dbt_module, "dbt_executable", lambda: str(fake))
    monkeypatch.delenv("OUTCOMES_QUERY_THREADS", raising=False)
    assert dbt_module.run_dbt(settings, ["build", "--full-refresh"], echo=False) == 0
    assert argv.read_text().startswith(
        "--no-use-colors build --full-refresh --threads 1 --project-dir"
    )
    assert argv.read_text().endswith(" | -")  # each query has all of DuckDB's threads
    # The daily build (here of every node: nothing changed since) keeps dbt's threads, and
    # divides DuckDB's among them.
    assert dbt_module.run_dbt(settings, ["build"], echo=False, everything=True) == 0
    assert argv.read_text().startswith("--no-use-colors build --project-dir")
    assert argv.read_text().endswith(" | 1")
    assert "OUTCOMES_QUERY_THREADS" not in os.environ


def test_build_passes_dbt_options_on(monkeypatch):
    seen = []
    monkeypatch.setattr(
        cli, "run_dbt", lambda settings, args, **kw: seen.append((args, kw["everything"])) or 0
    )
    assert cli.main(["build", "--full-refresh", "--select", "dim_accounts"]) == 0
    assert cli.main(["build", "--as-of", "2026-01-31", "--", "--select", "dim_accounts"]) == 0
    assert cli.main(["build", "--all", "--exclude-resource-type", "unit_test"]) == 0
    assert cli.main(["build", "--exclude-resource-type", "unit_test", "--all"]) == 0
    assert seen == [
        (["build", "--full-refresh", "--select", "dim_accounts"], False),
        (["build", "--select", "dim_accounts"], False),
        (["build", "--exclude-resource-type", "unit_test"], True),
        (["build", "--exclude-resource-type", "unit_test"], True),
    ]
    with pytest.raises(SystemExit):
        cli.main(["load", "--no-such-option"])
