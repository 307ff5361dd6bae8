# Video Deep Learning from First Principles: the two commands of the README.
#   make lab    creates the environment if missing, builds the data, opens JupyterLab
#   make test   creates the environment if missing, builds the data, runs every test
#               (lint, unit tests, then nbval re-running every notebook)
#
# The environment lives outside the clone, keyed by the exact pins (a hash of
# requirements.txt): clones share it, and any changed pin creates a fresh one.
# Override with `make test VENV=/path/to/venv`; `.venv` in the clone links to it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
PIN_HASH := $(shell sha256sum requirements.txt | cut -c1-12)
ENV_ROOT ?= $(HOME)/.cache/vdl-course
VENV ?= $(ENV_ROOT)/env-$(PIN_HASH)
PY := $(VENV)/bin/python
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
LAB_ARGS ?=
# Clones share one environment: put this clone's course_utils first on the path, for the
# tests and for every notebook kernel JupyterLab starts, whichever clone installed last.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: help env data lab test test-unit test-notebooks lint doctor clean-env

help:
	@echo "make lab     open the course in JupyterLab (sets everything up first)"
	@echo "make test    run the whole test suite: lint, unit tests, nbval on every notebook"
	@echo "make doctor  check this machine: Python, torch, torchvision, PyAV, widgets, data"

# No prerequisite on purpose: the directory name already carries the hash of the pins, so
# an environment that finished installing (.installed) is never rebuilt because a fresh
# clone gave requirements.txt a newer timestamp; a changed pin means a new directory.
$(VENV)/.installed:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "The course needs Python 3.11; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11.")'
	@echo ">> creating the course environment in $(VENV) (pinned packages, about 6 GB, a few minutes once)"
	rm -rf "$(VENV)"
	$(PYTHON) -m venv "$(VENV)"
	"$(PY)" -m pip install --quiet --upgrade pip
	"$(PY)" -m pip install --quiet -r requirements.txt
	touch "$@"

# Lecturer and classroom tools (nbgrader, RISE, JupyterHub, playwright) go into the same
# environment, constrained by requirements.txt so no core pin moves; the marker carries the
# hash of classroom/requirements.txt, so a changed pin installs again.
CLASSROOM_HASH := $(shell sha256sum classroom/requirements.txt | cut -c1-12)
$(VENV)/.classroom-$(CLASSROOM_HASH): $(VENV)/.installed
	@echo ">> installing the lecturer and classroom tools (classroom/requirements.txt)"
	"$(PY)" -m pip install --quiet -c requirements.txt -r classroom/requirements.txt
	touch "$@"

# flock: CI runs `make e2e` beside `make test`'s lecturer builds; their editable installs must not overlap.
env: $(VENV)/.installed $(VENV)/.classroom-$(CLASSROOM_HASH)
	@flock "$(VENV)/.install.lock" "$(PY)" -m pip install --quiet --no-deps --no-build-isolation -e . > "$(VENV)/editable-install.log" 2>&1 \
		|| { cat "$(VENV)/editable-install.log"; exit 1; }
	@ln -sfn "$(VENV)" .venv

data: env
	@"$(PY)" -m course_utils data verify >/dev/null 2>&1 || "$(PY)" -m course_utils data build

lab: data
	"$(VENV)/bin/jupyter" lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

lint: env
	"$(VENV)/bin/ruff" check course_utils tests benchmarks conftest.py

test-unit: data
	"$(PY)" -m pytest -q tests

# build/.notebooks-tested marks the end of the nbval run (pass or fail): .ci/run starts the
# browser tests then, so nbval's time budgets are measured on a quiet machine.
test-notebooks: data
	@mkdir -p build && rm -f build/.notebooks-tested
	status=0; "$(PY)" -m pytest -q $(NBVAL) notebooks || status=$$?; touch build/.notebooks-tested; exit $$status

test: lint test-unit test-notebooks test-builds

doctor: env
	"$(PY)" -m course_utils doctor

clean-env:
	rm -rf "$(VENV)" .venv

# Lecturer editions (docs/teaching.md): `make builds` writes build/{instructor,nbgrader,slides,site};
# `make test-builds` runs their expensive tests (every instructor edition executed, nbgrader
# autograde, slides and site offline in Chromium); `make test` runs it too.
.PHONY: builds test-builds
builds: data
	"$(PY)" -m course_utils build all

test-builds: data
	COURSE_TEST_BUILDS=1 "$(PY)" -m pytest -q tests/test_builds_full.py

# Browser tests: every notebook in JupyterLab in headless Chromium (tests/e2e/browser_e2e.py).
# Debian's chromium (installed if missing when root), driven by the Python playwright package;
# no browser download. E2E_NOTEBOOKS=00,03,09 runs a subset; E2E_PORT fixes the lab's port.
# Screenshots: build/e2e/.
.PHONY: e2e
e2e: data
	@"$(PY)" tests/e2e/harness.py chromium
	@rm -f build/e2e/*.png build/e2e/kernels.json build/e2e/failures.txt
	@status=0; "$(PY)" -m pytest -q -p no:cacheprovider tests/e2e/browser_e2e.py || status=$$?; \
		"$(PY)" tests/e2e/harness.py summary; echo "make e2e: $$SECONDS s in all"; exit $$status

# A class on one JupyterHub (classroom/jupyterhub_config.py; tests/e2e/hub_e2e.py): as root,
# three temporary Unix users log in, run notebook 00's first cells, are isolated; everything
# is stopped and removed afterwards. HUB_TEST_PORT fixes the hub's port.
.PHONY: hub-test
hub-test: data
	"$(PY)" -m pytest -q -s -p no:cacheprovider tests/e2e/hub_e2e.py
