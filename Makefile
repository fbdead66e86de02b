# Syndicate: the two commands a newcomer needs are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# axe-core (the accessibility checker the browser tests inject) comes from npm when npm is
	# here; without it those checks skip with the reason.
	if command -v npm >/dev/null; then npm install --silent --no-save --no-audit --no-fund \
		--prefix $(VENV)/npm axe-core@4.11 || echo "axe-core not installed: npm failed"; fi
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/syndicate demo
	$(BIN)/syndicate serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format --check syndicate tests
	$(BIN)/ruff check syndicate tests

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/syndicate bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var feeds/*/ test-output .pytest_cache .mypy_cache .ruff_cache
