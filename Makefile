# mgref: `make run` sets up and serves the site, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install install-dev browser-deps migrate seed run serve test lighthouse lint format check clean

help:
	@echo "make run     set up (venv, install, migrate, seed, demo accounts) and serve on http://$(HOST):$(PORT)"
	@echo "make serve   run under gunicorn with production settings on http://$(HOST):$(PORT)"
	@echo "make test    install the test tools and run the whole suite"
	@echo "make lighthouse  Lighthouse (desktop) on the home, monograph, history and diff pages"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make format  apply ruff's fixes and formatting"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# What the browser tests drive and check with: Debian's Chromium (browsers
# cannot be downloaded here), Java for the Nu HTML Checker, and axe-core and
# vnu-jar from npm. Without them those tests skip, loudly.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)

browser-deps: node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) $(APT_INSTALL) chromium; \
	} || echo "!!! Could not install Chromium: the browser tests will be skipped."
	@command -v java >/dev/null 2>&1 || { \
		echo "Installing Java for the HTML checker"; \
		$(SUDO) apt-get update -qq && $(SUDO) $(APT_INSTALL) default-jre-headless; \
	} || echo "!!! Could not install Java: the HTML validity test will be skipped."

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "!!! npm is missing: the accessibility and HTML checks will be skipped."; fi

migrate: install
	$(MANAGE) migrate --no-input
	$(MANAGE) render_revisions -v0

seed: migrate
	$(MANAGE) load_seed

run: seed
	$(MANAGE) create_demo_accounts
	$(MANAGE) runserver $(HOST):$(PORT)

# Production settings on the loopback, without TLS in front: no HTTPS redirect.
# A secret key is made up for the run unless DJANGO_SECRET_KEY is set.
serve: migrate
	DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'from django.core.management.utils import get_random_secret_key as k; print(k() + k())')}" \
	DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-$(HOST),localhost}" \
	DJANGO_SECURE_SSL_REDIRECT=false \
	sh -c '$(MANAGE) collectstatic --no-input -v0 && \
		GUNICORN_BIND=$(HOST):$(PORT) exec $(BIN)/gunicorn -c gunicorn.conf.py'

# One pytest process per core (pytest-xdist), each with its own test database
# and browser; a file's tests stay in one process. PYTEST_WORKERS=0 runs the
# suite in this process.
PYTEST_WORKERS ?= auto
test: install-dev browser-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Lighthouse's desktop scores (98+ in every category) in the machine's Chromium.
lighthouse: install-dev browser-deps
	$(BIN)/pytest tests/browser/test_lighthouse.py -p no:cacheprovider $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install-dev lint
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles

# `make bench` builds a large dataset in a fresh database (bench/bench.sqlite3),
# serves it with gunicorn and production settings on loopback, and load-tests
# it with wrk; see bench/run.py. Pass options in BENCH_ARGS, e.g.
# BENCH_ARGS="--duration 3s --database-url postgres://postgres@127.0.0.1:5432/mgref_bench".
.PHONY: bench
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing wrk for the benchmark"; \
		$(SUDO) apt-get update -qq && $(SUDO) $(APT_INSTALL) wrk; \
	} || echo "!!! Could not install wrk: the benchmark cannot run."
	$(BIN)/python -m bench.run $(BENCH_ARGS)
