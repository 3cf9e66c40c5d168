# `make run` and `make test` do all the set-up on a fresh machine; both go through `make install`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-sqlite lint typecheck schema migrations bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/casegraph seed-demo
	$(BIN)/casegraph serve --host 127.0.0.1 --port 8000

# Starts private PostgreSQL and Redis servers on loopback for the run unless the caller (CI)
# already provides CASEGRAPH_TEST_POSTGRES_URL / CASEGRAPH_TEST_REDIS_URL.
# The GraphQL tests run a second time without the compiled query path (casegraph/fastpath): it is
# an accelerator, so every answer must be the same without it.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	scripts/with-test-services $(BIN)/python -m pytest
	CASEGRAPH_COMPILED_QUERIES=off scripts/with-test-services $(BIN)/python -m pytest tests/graphql

test-sqlite: install
	CASEGRAPH_TEST_BACKENDS=sqlite $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

schema: install
	$(BIN)/casegraph export-schema > schema.graphql
	$(BIN)/casegraph export-schema --public > schema.public.graphql

migrations: install
	$(BIN)/tortoise makemigrations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache casegraph.sqlite3*

# Queue query against PostGraphile v5, assignToMe on SQLite, subscription fan-out; starts and stops
# its own servers on loopback, installs wrk (apt-get) and PostGraphile (npm) on first use.
# BENCH_ARGS="--quick" for a short run; see `python -m bench.run --help`.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)
