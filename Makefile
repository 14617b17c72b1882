# Billfold. `make run` and `make test` do every set-up step on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench venv format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## Demo on SQLite at http://127.0.0.1:8000 (staff: demo-staff / member: demo-member).
run: venv
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

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
