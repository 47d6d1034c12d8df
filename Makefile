# The two commands of the README:
#   make demo   runs the main job on the embedded default (SQLite, sandbox LMS, sample roster),
#               then a whole module run on simulated time, to its completion lists
#   make test   lint, type checks and all tests (SQLite and a PostgreSQL the tests start)
# Both set up what they need on a fresh machine first.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Exit code 1 means "done, but the work found problems" (the sample roster has rows
# rejected on purpose): the demo succeeded. 2-5 are real failures.
demo: $(BIN)/.installed
	$(BIN)/bdtx run --simulate || [ $$? -eq 1 ]

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

test: lint typecheck
	scripts/ensure-postgres
	$(BIN)/pytest

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit -q

bench: $(BIN)/.installed
	$(BIN)/python bench/connector_bench.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
