# interlock — every target installs what it needs (.venv from PyPI; PostgreSQL and
# Chromium from the distribution's packages when missing).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck bench soak system-deps clean schema

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/ensure-system-deps.sh

demo: $(STAMP)
	$(VENV)/bin/interlock demo

test: $(STAMP) system-deps
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy

bench: $(STAMP) system-deps
	$(PY) benchmarks/run_all.py

schema: $(STAMP)
	$(VENV)/bin/interlock schema > schema/agreement.schema.json

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache
