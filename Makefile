# powerlunch — the two commands: `make run` (the whole app on this laptop) and `make test` (every tier).
# Both start from nothing: they make .venv, install, start what they need and stop it again.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STAGE  ?= prod

.PHONY: run test lint typecheck unit api integration browser deploy package bench clean venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "powerlunch needs Python 3.11+"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: venv
	$(PY) -m scripts.run_local

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

typecheck: lint

# Every tier in one pytest run, one worker per core (at most 4; CI has 2): each worker's
# session starts its own DynamoDB Local on a free port for the integration and browser tiers
# and stops it when it ends.
test: venv
	bash scripts/ensure_chromium.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n auto --maxprocesses 4 --durations=8 tests

unit: venv
	$(PY) -m pytest -q tests/unit
api: venv
	$(PY) -m pytest -q tests/api
integration: venv
	$(PY) -m pytest -q tests/integration
browser: venv
	bash scripts/ensure_chromium.sh
	$(PY) -m pytest -q tests/browser
deploy: venv
	$(PY) -m pytest -q tests/deploy

package: venv
	bash scripts/package.sh $(STAGE)

bench: venv
	$(PY) -m bench.run_all

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache test-artifacts
