# The two commands of the README are `make run` and `make test`; the rest serve them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test lint typecheck pytest bench venv lock setup clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

setup: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_demo_admin
	@if $(PY) manage.py help load_demo >/dev/null 2>&1; then $(PY) manage.py load_demo; fi

## The main job: web + worker + beat in the foreground at http://127.0.0.1:8000 (Ctrl-C stops all).
run: setup
	@echo "Starting web, worker and beat: http://127.0.0.1:8000/api/v1/health  (Ctrl-C stops them)"
	@$(PY) manage.py ensure_demo_admin
	$(VENV)/bin/honcho -f Procfile.dev start

## Lint, types and every test tier the machine can run (services tier where PostgreSQL/Redis answer).
test: venv lint typecheck pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

## Benchmarks (not part of the default run); results go to docs/benchmarks.md by hand.
bench: venv
	$(PY) -m pytest -m bench --benchmark-enable tests/bench $(PYTEST_ARGS)

## Recompile the pinned requirements from requirements*.in.
lock:
	$(VENV)/bin/uv pip compile requirements.in -o requirements.txt --python-version 3.11 --no-header --quiet
	$(VENV)/bin/uv pip compile requirements-dev.in -o requirements-dev.txt --python-version 3.11 --no-header --quiet

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
