# The README's two commands are `make run` and `make test`; both create the virtual
# environment first (Python 3.11 and network access to PyPI are all they need).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: help venv run test pytest lint format build generate load clean dev bench test-postgres test-spark docs dashboard

help:
	@echo "make run     - end to end on DuckDB: demo data, load, dbt build, summary"
	@echo "make test    - lint (ruff, sqlfluff) and every test (pytest, which runs dbt build)"
	@echo "make test-postgres / test-spark - the same project built and tested on that engine"
	@echo "make lint    - ruff and sqlfluff only"
	@echo "make format  - ruff format + sqlfluff fix"
	@echo "make bench   - scale benchmark (SCALE=1M|10M|100M, MEMORY_LIMIT=..., ENGINES=duckdb,postgres,spark)"
	@echo "make docs    - dbt docs generate: documentation site (lineage, column docs, exposures)"
	@echo "make dashboard - Streamlit dashboard on http://127.0.0.1:8501 (reads the serve database)"
	@echo "make dev     - Dagster UI on http://127.0.0.1:3000 (jobs, schedules, sensor, checks)"
	@echo "make clean   - remove generated data, dbt target/ and logs/"

# --compile-bytecode: uv does not write .pyc files by default, and where PYTHONDONTWRITEBYTECODE
# is set nothing ever does, so every process would compile dagster, dbt and GX from source
# again (measured: `make run` 72 s without, 48 s with).
$(STAMP): pyproject.toml requirements.lock
	@echo "creating the environment in $(VENV)/ (once; about 30 s)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9 || true
	@if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . ; \
	else \
	  $(BIN)/pip install --quiet -r requirements.lock && $(BIN)/pip install --quiet --no-deps -e . ; \
	fi
	@touch $(STAMP)
	@echo "environment ready: $(VENV)/"

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/outcomes run

# sqlfluff in one process: `make test` runs it beside pytest, which keeps both cores busy
# (a second process parses the dbt project again for no shorter run).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OUTCOMES_WAREHOUSE=$${TMPDIR:-/tmp}/outcomes-lint.duckdb $(BIN)/sqlfluff lint models tests --processes 1

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	OUTCOMES_WAREHOUSE=$${TMPDIR:-/tmp}/outcomes-lint.duckdb $(BIN)/sqlfluff fix models tests

# The tests run in TEST_WORKERS processes (pytest-xdist), a file's tests in one process: most
# of a test is dbt's single-threaded Python or a subprocess starting, so two processes keep
# both cores busy, and the linters run beside them. The six-day refresh test (about six
# minutes) and the file that builds the shared warehouse start first, one on each process
# (conftest.py orders the collection), and the others follow in collection order (xdist would
# otherwise start with the files that hold the most tests).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(MAKE) --no-print-directory -j 2 lint pytest

pytest: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder tests/python

# The same project on Spark: dbt-spark (session) and pyspark in their own environment. Its
# suite starts one Python process there, which compiles only the modules it imports: compiling
# every module at install costs 15 s more (35 s against 21 s) and the suite no less.
SPARK_STAMP := .venv-spark/.installed
$(SPARK_STAMP): requirements-spark.lock $(STAMP)
	$(PYTHON) -m venv .venv-spark
	$(BIN)/uv pip install --quiet --python .venv-spark/bin/python -r requirements-spark.lock
	touch $(SPARK_STAMP)

test-spark: $(SPARK_STAMP)
	$(BIN)/pytest -m spark tests/python/test_spark.py

# The same project on PostgreSQL (installs and starts a local server when none answers).
test-postgres: $(STAMP)
	$(BIN)/pytest -m postgres tests/python/test_postgres.py

SCALE ?= 1M
bench: $(STAMP)
	$(BIN)/outcomes bench --scale $(SCALE) $(if $(MEMORY_LIMIT),--memory-limit $(MEMORY_LIMIT)) $(if $(ENGINES),--engines $(ENGINES))

# The Dagster instance `outcomes run` records its runs in: $DAGSTER_HOME, by default .dagster/.
DAGSTER_HOME ?= $(CURDIR)/.dagster
dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME) && cp orchestration/dagster_home/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@echo "Dagster UI: http://127.0.0.1:3000 (instance $(DAGSTER_HOME))"
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -m customer_outcomes.defs -h 127.0.0.1 -p 3000

# The documentation site: dbt docs generate (lineage, column docs, exposures, semantic models).
# `make run` first, so the catalog has the warehouse's tables. static_index.html opens from disk.
docs: $(STAMP)
	$(BIN)/dbt docs generate --static --project-dir . --profiles-dir .
	@t="$${DBT_TARGET_PATH:-target}"; case "$$t" in /*) ;; *) t="$(CURDIR)/$$t" ;; esac; \
	echo "Documentation site: $$t/static_index.html (one file; or index.html via: $(BIN)/dbt docs serve --port 8080)"

# The dashboard, on 127.0.0.1 only; it reads the serve database (OUTCOMES_SERVE), read-only.
DASHBOARD_PORT ?= 8501
dashboard: $(STAMP)
	@echo "Dashboard: http://127.0.0.1:$(DASHBOARD_PORT)  (serve database: $${OUTCOMES_SERVE:-data/serve.duckdb}; Ctrl-C stops it)"
	$(BIN)/streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port $(DASHBOARD_PORT) \
	  --server.headless true --browser.gatherUsageStats false

clean:
	rm -rf data target logs .dagster
