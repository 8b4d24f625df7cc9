# Claresia — the two set-up commands are `make run` (demo) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= $(firstword $(shell pyenv which python 2>/dev/null) $(shell command -v python3.13) $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3))
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/claresia
REDIS_URL ?= redis://127.0.0.1:6379/15

# The test suite's environment: PostgreSQL and Redis, throwaway secrets, tasks in-process.
TEST_ENV := CLARESIA_ENV_FILE= DATABASE_URL=$(PG_URL) CACHE_URL=$(REDIS_URL) TEST_REDIS_URL=$(REDIS_URL) \
	DEBUG=true CELERY_BROKER_URL= OPENAI_API_BASE=http://127.0.0.1:9/v1 \
	CHATGPT_ADMIN_API_BASE=http://127.0.0.1:9/v1

.PHONY: run test bench lint format clean chromium

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Browser tests use Debian's Chromium (Playwright's own browser download cannot work offline).
chromium:
	@command -v chromium > /dev/null || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }

run: $(VENV)/.installed
	@scripts/demo.sh

test: $(VENV)/.test-installed chromium
	$(VENV)/bin/ruff check .
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test-installed
	LOG_LEVEL=WARNING $(TEST_ENV) $(PY) -m bench $(BENCH)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var/*.sqlite3 .pytest_cache
