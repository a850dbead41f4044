# wmgen: two commands do all set-up: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install system-deps test-tools serve test lint format bench bench-load clean

# The virtual environment is (re)built when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# PostgreSQL, Chromium and docker-compose for the integration tests (Debian packages).
system-deps:
	@bash scripts/install-system-deps.sh

serve: install
	$(VENV)/bin/wmgen serve --host $(HOST) --port $(PORT)

# Checkers that pin numpy<2 live in their own environments under .venv-tools/.
test-tools: install
	@bash scripts/install-asam-qc.sh
	@bash scripts/install-nuscenes-devkit.sh

test: install system-deps test-tools
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) bench/rollout.py
	$(PY) bench/render.py
	$(PY) bench/generate.py
	$(PY) bench/catalog.py
	$(PY) bench/neural.py

# 200 concurrent HTTP clients for a minute against a local service (starts one).
bench-load: install
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .venv-tools .mypy_cache .ruff_cache .pytest_cache
