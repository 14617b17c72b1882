# Billfold. `make run` and `make test` do every set-up step on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint bench venv format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## Demo on SQLite at http://127.0.0.1:8000 (staff: demo-staff / member: demo-member).
## The periodic jobs (expiry, sandbox deliveries, receipt emails) run beside the server:
## the scheduler on the immediate backend runs each job itself (no worker on SQLite).
run: venv
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@set -euo pipefail; export DEBUG=1 BILLFOLD_JOBS=immediate; \
	$(BIN)/python manage.py schedule_jobs & jobs=$$!; trap 'kill $$jobs 2>/dev/null || true' EXIT; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## A local production-like run: DEBUG off, gunicorn (gunicorn.conf.py), static files by
## WhiteNoise, on a throw-away PostgreSQL unless DATABASE_URL is set; plain HTTP.
serve: venv
	@set -euo pipefail; \
	echo "make serve: a LOCAL production-like run (DEBUG off, gunicorn, WhiteNoise, plain HTTP" \
	  "with SECURE_SSL_REDIRECT=0); not a deployment, see README \"Deploy\"."; \
	if [ -z "$${DATABASE_URL:-}" ]; then \
	  DATABASE_URL=$$(scripts/pg.sh start); export DATABASE_URL; trap 'scripts/pg.sh stop' EXIT; \
	  echo "make serve: throw-away PostgreSQL at $$DATABASE_URL (deleted on exit)"; \
	  seed=1; \
	else seed=0; fi; \
	export DEBUG=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost}"; \
	random() { $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))'; }; \
	if [ -z "$${SECRET_KEY:-}" ]; then \
	  SECRET_KEY=$$(random); export SECRET_KEY; echo "make serve: a random SECRET_KEY for this run"; \
	fi; \
	export BILLFOLD_SANDBOX_GATEWAY="$${BILLFOLD_SANDBOX_GATEWAY:-1}"; \
	if [ -z "$${SANDBOX_WEBHOOK_SECRET:-}" ]; then \
	  SANDBOX_WEBHOOK_SECRET=$$(random); export SANDBOX_WEBHOOK_SECRET; \
	  echo "make serve: the sandbox gateway (test cards) with a random webhook secret for this run"; \
	fi; \
	$(BIN)/python manage.py migrate --noinput; \
	if [ "$$seed" = 1 ]; then $(BIN)/python manage.py seed_demo; fi; \
	$(BIN)/python manage.py collectstatic --noinput; \
	echo "make serve: http://$${HOST:-127.0.0.1}:$${PORT:-8000}/ (Ctrl-C stops it)"; \
	$(BIN)/gunicorn -c gunicorn.conf.py

## Lint, then the whole suite on a throw-away PostgreSQL 15, then on SQLite.
test: venv
	scripts/test.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_sizes.py

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks on a throw-away PostgreSQL; figures go to bench/RESULTS.md.
bench: venv
	bench/run.sh

clean:
	rm -rf $(VENV) db.sqlite3
