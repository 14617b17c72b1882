#!/usr/bin/env bash
# `make bench`: every benchmark on a throw-away, durable PostgreSQL.
# Starts the cluster (port BENCH_PG_PORT, default 55435), migrates, collects the static
# files (DEBUG is off: pages use the hashed names), runs `python -m bench.ledger_bench`
# (statement pages, posting; writes bench/RESULTS.md), then the wallet, API, member,
# outbox, outgoing-webhook, receivables and billing-run benchmarks, each appending its
# section to bench/RESULTS.md; stops and deletes the cluster and the collected files on
# exit, whatever happens. Exit 1 if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

export BILLFOLD_PG_PORT="${BENCH_PG_PORT:-55435}"
export BILLFOLD_PG_DURABLE=1 # every COMMIT is flushed to disk: the figures are honest
export SECRET_KEY="${SECRET_KEY:-bench-only-secret-key}"
export SECURE_SSL_REDIRECT=0
export ALLOWED_HOSTS=testserver
unset DEBUG

# A cluster left on this port by an interrupted run may have other settings or data.
scripts/pg.sh stop
STATIC_ROOT="$(mktemp -d /tmp/billfold-bench-static.XXXXXX)"
export STATIC_ROOT
trap 'scripts/pg.sh stop; rm -rf "$STATIC_ROOT"' EXIT
DATABASE_URL="$(scripts/pg.sh start)"
export DATABASE_URL
echo "bench: PostgreSQL at $DATABASE_URL (durable commits)"

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py collectstatic --noinput -v0
start=$(date +%s)
status=0
.venv/bin/python -m bench.ledger_bench "$@" || status=1
for bench in wallet_bench api_bench member_bench outbox_bench webhooks_bench receivables_bench \
  billing_run_bench; do
  echo "== bench: $bench"
  if ! .venv/bin/python "bench/$bench.py" > "bench/.$bench.md"; then status=1; fi
  cat "bench/.$bench.md"
  { echo; cat "bench/.$bench.md"; } >> bench/RESULTS.md
  rm -f "bench/.$bench.md"
done
echo "bench: figures in bench/RESULTS.md (overall $([ $status = 0 ] && echo PASS || echo FAIL)," \
  "$(( $(date +%s) - start )) s)"
exit "$status"
