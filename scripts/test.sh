#!/usr/bin/env bash
# The whole suite: lint gates, then pytest on a throw-away PostgreSQL, then on SQLite.
# Called by `make test` (and so by .ci/run). Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export SECRET_KEY="${SECRET_KEY:-test-only-secret-key-not-for-production}"
export SECURE_SSL_REDIRECT=0
unset DEBUG

status=0
echo "== lint: ruff check, ruff format --check, makemigrations --check, lint-imports, sizes"
$BIN/ruff check . || status=1
$BIN/ruff format --check . || status=1
DATABASE_URL= $BIN/python manage.py makemigrations --check --dry-run || status=1
$BIN/lint-imports || status=1
$BIN/python scripts/check_sizes.py || status=1

echo "== PostgreSQL"
trap 'scripts/pg.sh stop' EXIT
if ! PG_URL="$(scripts/pg.sh start)"; then
  echo "FAILED: could not start PostgreSQL; the suite must run on it (CI=${CI:-})." >&2
  exit 1
fi
echo "using $PG_URL"
# Two pytest-xdist workers (PYTEST_WORKERS; 0 runs in one process), each on its own test
# database; the fault test restarts PostgreSQL, so it runs alone afterwards (under xdist
# it skips itself).
WORKERS=(-n "${PYTEST_WORKERS:-2}")
[ "${PYTEST_WORKERS:-2}" = 0 ] && WORKERS=()
DATABASE_URL="$PG_URL" $BIN/pytest -p no:cacheprovider "${WORKERS[@]}" "$@" || status=1
if [ "$#" = 0 ] && [ "${#WORKERS[@]}" != 0 ]; then
  echo "== PostgreSQL: the fault test, alone"
  DATABASE_URL="$PG_URL" $BIN/pytest -p no:cacheprovider tests/live/test_faults.py || status=1
fi

echo "== SQLite"
DATABASE_URL="sqlite:///$(mktemp -d)/billfold-test.sqlite3" $BIN/pytest -p no:cacheprovider \
  "${WORKERS[@]}" "$@" || status=1

if [ "$status" != 0 ]; then echo "== make test: FAILED"; else echo "== make test: all green"; fi
exit "$status"
