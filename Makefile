# Two commands matter: `make demo` and `make test`. Both bootstrap .venv from plain python3 and the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit test-fast chaos lint lock bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/dvc-hub demo $(if $(TOPOLOGY),--topology $(TOPOLOGY))

# The whole suite with its coverage (branches included) printed; it fails if coverage falls below the floor: the
# figure measured on the whole suite when the floor was set, rounded down, less one point for the retry and timeout
# branches whose coverage depends on timing (90.49% on 1 Dec 2026, 18:05). Raise it when coverage rises; never lower
# it to make a change pass.
COVERAGE_FLOOR := 89
test: $(STAMP)
	$(BIN)/python -m pytest -m "not chaos" --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

# The tests that need no server. The servers' URLs point at a closed port, so a test that reaches PostgreSQL or Redis
# without saying so (no postgres/redis marker from its fixtures) fails here instead of quietly using a local one.
OFFLINE := DVC_HUB_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:1/postgres DVC_HUB_TEST_REDIS_URL=redis://127.0.0.1:1/0
# The chaos matrix (tests/hub/test_chaos_matrix.py): each scenario on servers of its own, 500 dossiers and 10 s
# outages (7 min 25-35 s on 6 Dec 2026; CI runs it after `make test`).
chaos: $(STAMP)
	$(BIN)/python -m pytest -m chaos -v

# What a developer runs on every save: no server (PostgreSQL, Redis, the simulators, the console), no browser, no
# child process; under a minute on the 2-core development machine, on both its cores (pytest-xdist). The marks come
# from the tests' fixtures (tests/conftest.py), and in this tier a test that starts a server or a process anyway
# fails at once. Hypothesis runs a fifth of its examples here; make test runs them all.
test-unit: $(STAMP)
	$(OFFLINE) DVC_HUB_TEST_TIER=unit $(BIN)/python -m pytest -q -n 2 \
		-m "not slow and not chaos and not postgres and not redis and not rabbitmq and not server and not subprocess and not browser"

test-fast: $(STAMP)
	$(OFFLINE) $(BIN)/python -m pytest -m "not slow and not postgres and not redis"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

# Regenerate the lock after changing pyproject.toml dependencies (uv is only needed here, not to install).
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) var/*.sqlite3 .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage .coverage.* htmlcov
