# The two commands a new machine needs (each creates .venv on first use and re-installs when pyproject.toml changes):
#   make plan   offline plan of every stack (no AWS account, no Pulumi CLI)
#   make test   the whole test suite, linters included
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: plan test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

plan: $(STAMP)
	$(BIN)/docustack plan

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV)
