# The README's two commands are `make run` and `make test`; both create the virtual
# environment first (Python 3.11 and network access to PyPI are all they need).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: help venv run test lint format build generate load clean dev

help:
	@echo "make run     - end to end on DuckDB: demo data, load, dbt build, summary"
	@echo "make test    - lint (ruff, sqlfluff) and every test (pytest, which runs dbt build)"
	@echo "make lint    - ruff and sqlfluff only"
	@echo "make format  - ruff format + sqlfluff fix"
	@echo "make dev     - Dagster UI on http://127.0.0.1:3000 (jobs, schedules, sensor, checks)"
	@echo "make clean   - remove generated data, dbt target/ and logs/"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9 || true
	if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . ; \
	else \
	  $(BIN)/pip install --quiet -r requirements.lock && $(BIN)/pip install --quiet --no-deps -e . ; \
	fi
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/outcomes run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OUTCOMES_WAREHOUSE=$${TMPDIR:-/tmp}/outcomes-lint.duckdb $(BIN)/sqlfluff lint models tests

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	OUTCOMES_WAREHOUSE=$${TMPDIR:-/tmp}/outcomes-lint.duckdb $(BIN)/sqlfluff fix models tests

test: lint
	$(BIN)/pytest

dev: $(STAMP)
	mkdir -p .dagster && cp orchestration/dagster_home/dagster.yaml .dagster/dagster.yaml
	@echo "Dagster UI: http://127.0.0.1:3000"
	DAGSTER_HOME=$(CURDIR)/.dagster $(BIN)/dagster dev -m customer_outcomes.defs -h 127.0.0.1 -p 3000

clean:
	rm -rf data target logs .dagster
