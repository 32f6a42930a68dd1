# Two commands set the project up on a fresh machine (Python 3.11+):
#   make demo   installs the copilot and runs the demo on the embedded sandbox (no keys, no Odoo, no Slack)
#   make test   installs the test extras and runs the test suite (pytest)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# PyTorch (for the local embedding model) is installed first, pinned, so that pip does not pick a
# multi-GB CUDA build: on machines with a CPU wheel at hand this takes it; elsewhere set
# TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" (or your mirror).
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=

.PHONY: demo test lint format live bench sandbox clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0] + " (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) '$(TORCH_SPEC)'
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/copilot demo

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

live: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m live $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.odoo_tools
	$(BIN)/python -m benchmarks.triage
	$(BIN)/python -m benchmarks.retrieval
	$(BIN)/python -m benchmarks.channels
	$(BIN)/python -m benchmarks.security
	$(BIN)/python -m benchmarks.cli_startup

sandbox: $(VENV)/.installed
	$(BIN)/copilot sandbox

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
