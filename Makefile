# Ballast: `make demo` runs the whole desk on paper venues; `make test` runs the suite.
# `make demo VENUES=stub` runs it on local HollaEx and Binance stubs through ccxt, in var/stub.
PY ?= python3
VENUES ?= paper
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo up test lint bench clean

$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# The stubs keep their books and balances in memory, so the stub demo's database starts afresh too.
ifeq ($(VENUES),stub)
demo: export BALLAST_VAR_DIR := $(CURDIR)/var/stub
endif
demo: $(STAMP)
	$(if $(filter stub,$(VENUES)),rm -f var/stub/ballast.sqlite3*)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo --new-password --venues $(VENUES)
	$(BIN)/python manage.py up --venues $(VENUES)

up: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py up

# The browser tests' Chromium first: found, installed, or named in one line (tests/support/chromium.py).
# Without REDIS_URL the suite gets a private embedded Redis for its run.
# TEST_WORKERS pytest-xdist workers share the tests (0: all in one process). Worker N uses Redis
# database REDIS_URL's + N and a test database of its own (tests/settings.py); the process drills,
# marked xdist_group("drills"), run one after another in one worker (docs/testing.md).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m tests.support.chromium
	$(BIN)/python -m ballast.embedded_redis $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) $(if $(filter 0,$(TEST_WORKERS)),,--dist loadgroup) $(PYTEST_ARGS)

# ruff, then the import contracts that keep the layout (pyproject.toml [tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var
