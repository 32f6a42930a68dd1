# Two commands set the project up on a fresh machine (Python 3.11+):
#   make demo   installs the copilot and runs the demo on the embedded sandbox (no keys, no Odoo, no Slack)
#   make test   installs the test extras and runs the test suite (pytest: unit, then integration)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# PyTorch (for the local embedding model) is installed first, pinned, as the CPU build, so that pip never
# resolves PyPI's Linux default (the CUDA build plus ~18 nvidia-* wheels, several GB). A torch wheel that
# pip's find-links provide (a local wheel cache, `pip config list`) is taken first, without any index;
# otherwise the build comes from TORCH_INDEX_URL (the PyTorch CPU index; set your mirror, or a CUDA index
# such as https://download.pytorch.org/whl/cu128 if you want one). `pip install -e .` then brings torch's
# own small dependencies (sympy, networkx, jinja2, ...) from PyPI.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
# The fallback download gives up after TORCH_TIMEOUT seconds per attempt and 2 retries (no hang in CI).
TORCH_TIMEOUT ?= 60
# `make test` first checks the test servers (Dovecot IMAP for the email channel's tests): `install`
# installs dovecot-imapd when it is missing and that is possible (root or passwordless sudo, apt-get);
# `check` only prints a one-line hint when it is missing. n8n, for the n8n workflows' test, comes from the
# npm registry into ~/.cache/copilot-test-services (minutes the first time). See scripts/test-services.sh.
TEST_SERVICES ?= install

.PHONY: demo test unit e2e test-services docs lint odoo-lint odoo-test browser-test format live bench sandbox clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0] + " (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	@if $(BIN)/python -m pip install --quiet --no-deps --no-index 'torch==$(TORCH_VERSION)' 2>/dev/null; then \
	  echo "torch $(TORCH_VERSION): a local wheel (pip find-links)"; \
	else \
	  echo "torch $(TORCH_VERSION): no local wheel; the build from $(TORCH_INDEX_URL)"; \
	  $(BIN)/python -m pip install --quiet --no-deps --timeout $(TORCH_TIMEOUT) --retries 2 \
	    --index-url '$(TORCH_INDEX_URL)' 'torch==$(TORCH_VERSION)'; \
	fi
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/copilot demo

# `make test` runs the suite in two parts, each with a one-line summary ("unit: N tests in X s"), then the total:
#   unit          tests/unit and tests/docs, socket-free (pytest-socket; the Odoo sandbox in-process), on every core, ~2 min
#   integration   tests/integration, tests/contract and tests/live: real servers on loopback (Dovecot, PostgreSQL,
#                 SMTP, HTTP servers, the sandbox served over HTTP, `copilot serve` as a process)
# Both parts run even when the first fails; the exit status is the worse of the two. `make unit` is the fast loop.
# The end-to-end runs (the README's tour as a newcomer types it, the set-up commands, the load test's quick run) are `make e2e`, ~2 min,
# which CI runs too: they start the real CLI a dozen times and keep `make test` under 6 minutes on 2 cores.
UNIT_TESTS := tests/unit tests/docs
# The unit part runs on every core (pytest-xdist; UNIT_WORKERS=0: in this process); the integration part stays
# serial: its tests start real servers and time processes, and two at once on 2 cores would only race.
UNIT_WORKERS ?= auto
INTEGRATION_TESTS := tests/integration tests/contract tests/live
test: $(VENV)/.installed-dev
	@scripts/test-services.sh $(TEST_SERVICES)
	@start=$$(date +%s); unit=0; integration=0; \
	  $(BIN)/python -m pytest $(UNIT_TESTS) -m "not e2e" --part unit -n $(UNIT_WORKERS) $(PYTEST_ARGS) || unit=$$?; \
	  $(BIN)/python -m pytest $(INTEGRATION_TESTS) -m "not e2e" --part integration $(PYTEST_ARGS) || integration=$$?; \
	  rc=$$(( unit > integration ? unit : integration )); \
	  echo "make test: $$(( $$(date +%s) - start )) s of tests (unit exit $$unit, integration exit $$integration)"; \
	  exit $$rc

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(UNIT_TESTS) -m "not e2e" --part unit -n $(UNIT_WORKERS) $(PYTEST_ARGS)

e2e: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

test-services:
	scripts/test-services.sh install

# Regenerates docs/configuration.md from the settings model (a test fails when it is stale).
docs: $(VENV)/.installed
	$(BIN)/python -m scripts.gen_config_docs

lint: $(VENV)/.installed-dev odoo-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The Odoo addon, per series: pylint-odoo with the checks listed in odoo_addons/.pylintrc (a few seconds), and
# its two trees in step (scripts/sync_odoo_addons.py: one text but for the version-specific files).
ODOO_SERIES := 18.0 19.0
odoo-lint: $(VENV)/.installed-dev
	@for series in $(ODOO_SERIES); do \
	  $(BIN)/pylint --rcfile=odoo_addons/.pylintrc --valid-odoo-versions=$$series odoo_addons/$$series/copilot_approval \
	    || exit 1; \
	done
	$(BIN)/python -m scripts.sync_odoo_addons --check

# The addon's own Odoo tests (TransactionCase) on a real Odoo 18 or 19, which is on no package registry:
#   make odoo-test ODOO_BIN=/opt/odoo19/odoo-bin ODOO_PY=/opt/odoo19-venv/bin/python ODOO_ARGS="-c /etc/odoo.conf"
# ODOO_ADDONS_PATH (Odoo's own addons folders; default: beside odoo-bin) and ODOO_DB (default
# copilot_approval_test_<18|19>, created the first time, upgraded after) are optional. See docs/development.md.
ODOO_PY ?= python3
odoo-test:
	ODOO_BIN="$(ODOO_BIN)" ODOO_PY="$(ODOO_PY)" ODOO_ADDONS_PATH="$(ODOO_ADDONS_PATH)" ODOO_DB="$(ODOO_DB)" \
	  ODOO_ARGS="$(ODOO_ARGS)" $(PYTHON) -m scripts.odoo_test

# The headless-browser tests (tests/browser): Playwright (dev extras) drives Chromium from Debian's packages
# (`scripts/test-services.sh install chromium`; never a downloaded browser) against a throwaway real Odoo per series
# the machine has, with the addon installed: ODOO18_BIN / ODOO19_BIN (odoo-bin), ODOO18_PY / ODOO19_PY (its Python),
# ODOO_ARGS (database options), ODOO_ADDON_TREES (another odoo_addons tree). about 1.5 min per series.
browser-test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/browser -m browser $(PYTEST_ARGS)

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
