"""Benchmark (issue 15): the finance overview and the aged receivables report at
1,000 invoices and at 100,000, on durable PostgreSQL. Target: 100× the data costs at
most 20× the time (both are SQL aggregates, not per-row Python).

The rows are bulk-loaded with ``INSERT ... SELECT FROM generate_series`` (not through
the services) into a database of the benchmark's own (``<db>_receivables``, created,
migrated and dropped here), so the other benchmarks' rows do not count. Invoice ``k``
belongs to one of ``k/20`` accounts (one in five EUR, ten accounts a group), was issued
at a time spread over the last 400 days, is due 30 days later, and is, by ``k mod 20``:
cancelled (1 in 20: ``INVC`` + and −), due (3), disputed-like unpaid (1), partially paid
(4: half allocated, ``PAYM``) or paid (11: allocated in full, ``PAYM``) — so every bucket
has money and the report reads ~2.6 entries and ~0.75 allocations per invoice.

Measured (median of ``BENCH_RECEIVABLES_RUNS`` after two warm-ups, interleaved):
the selectors ``aging()`` per account and per group and ``finance_overview()``, and the
admin pages that show them (the report page, the admin home), through Django's test
client with DEBUG off.

    DATABASE_URL=postgres://... .venv/bin/python bench/receivables_bench.py  # markdown out
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import drop_database, loadavg, own_database  # noqa: E402

RUNS = int(os.environ.get("BENCH_RECEIVABLES_RUNS") or 9)
SMALL, BIG = 1_000, 100_000
PER_ACCOUNT = 20
TARGET = 20.0  # at most 20x the time for 100x the data

GROUPS_SQL = """
INSERT INTO ledger_accountgroup (id, name, created_at)
SELECT 1000000 + g, 'Bench group ' || g, now() FROM generate_series(%(lo)s, %(hi)s) AS g
"""
ACCOUNTS_SQL = """
INSERT INTO ledger_account (id, name, email, currency, erp_managed, payment_terms_days,
    is_active, created_at, balance, last_seq, last_digest, group_id)
SELECT 1000000 + a, 'Bench account ' || a, 'bench' || a || '@example.test',
       CASE WHEN a %% 5 = 0 THEN 'EUR' ELSE 'GBP' END, false, 14, true, now(), 0, 0, '',
       1000000 + a / 10
  FROM generate_series(%(lo)s, %(hi)s) AS a
"""
# One row per invoice k in [lo, hi]: its account, status, amounts and times.
_INVOICES = """
SELECT k, 1000000 + k AS invoice_id, acct,
       CASE WHEN acct %% 5 = 0 THEN 'EUR' ELSE 'GBP' END AS currency,
       (k - %(lo)s) / %(accounts)s AS idx, s,
       CASE WHEN s = 0 THEN 'cancelled' WHEN s <= 3 THEN 'due' WHEN s = 4 THEN 'disputed'
            WHEN s <= 8 THEN 'partially_paid' ELSE 'paid' END AS status,
       10 + ((k * 37) %% 1000)::numeric / 100 AS total,
       CASE WHEN s BETWEEN 5 AND 8 THEN round((10 + ((k * 37) %% 1000)::numeric / 100) / 2, 2)
            WHEN s >= 9 THEN 10 + ((k * 37) %% 1000)::numeric / 100 ELSE 0 END AS paid,
       now() - interval '400 days' + (k %% 400) * interval '1 day'
           + (k %% 86400) * interval '1 second' AS issued_at
  FROM (SELECT k, 1000000 + %(acc_lo)s + (k - %(lo)s) %% %(accounts)s AS acct, k %% 20 AS s
          FROM generate_series(%(lo)s, %(hi)s) AS k) AS g
"""
LOAD_SQL = f"""
CREATE TEMP TABLE bench_inv ON COMMIT DROP AS {_INVOICES};
INSERT INTO ledger_invoice (id, series, seq_no, number, status, description, is_prepaid_order,
    currency, total, amount_paid, amount_credited, amount_refunded, issue_date, due_date,
    issued_at, cancelled_at, cancel_reason, created_at, account_id)
SELECT invoice_id, 'BR', k, 'BR-' || k, status, 'Bench', false, currency, total,
       CASE WHEN status = 'cancelled' THEN 0 ELSE paid END, 0, 0, issued_at::date,
       issued_at::date + 30, issued_at,
       CASE WHEN status = 'cancelled' THEN issued_at + interval '1 day' END, '', issued_at,
       acct
  FROM bench_inv;
INSERT INTO ledger_ledgerentry (account_id, seq, posted_at, kind, reference, description,
    currency, debit, credit, balance_after, method, actor_label, invoice_id)
SELECT acct, 3 * idx + 1, issued_at, 'INVC', 'INVC-BR-' || k, 'Bench invoice', currency,
       total, 0, 0, '', 'system:bench', invoice_id FROM bench_inv
UNION ALL
SELECT acct, 3 * idx + 2, issued_at + interval '1 day', 'INVC', 'INVC-BR-' || k,
       'Cancelled', currency, -total, 0, 0, '', 'system:bench', invoice_id
  FROM bench_inv WHERE status = 'cancelled'
UNION ALL
SELECT acct, 3 * idx + 2, issued_at + interval '10 days', 'PAYM', 'INVC-BR-' || k,
       'Bench payment', currency, 0, paid, 0, 'bank_transfer', 'system:bench', invoice_id
  FROM bench_inv WHERE paid > 0;
INSERT INTO payments_payment (id, number, direction, type, method, status, currency, amount,
    amount_allocated, amount_reversed, refund_pending, refund_pending_credit, reference, note,
    decline_reason, receipt_sent_to, gateway, created_at, completed_at, account_id, invoice_id)
SELECT invoice_id, 'PB-' || k, 'incoming', 'rendered_services', 'bank_transfer', 'completed',
       currency, paid, paid, 0, 0, 0, '', '', '', '', '', issued_at,
       issued_at + interval '10 days', acct, invoice_id
  FROM bench_inv WHERE paid > 0;
INSERT INTO payments_paymentallocation (currency, amount, created_at, actor_label, account_id,
    invoice_id, payment_id)
SELECT currency, paid, issued_at + interval '10 days', 'system:bench', acct, invoice_id,
       invoice_id
  FROM bench_inv WHERE paid > 0;
"""
TABLES = (
    "ledger_accountgroup",
    "ledger_account",
    "ledger_invoice",
    "ledger_ledgerentry",
    "payments_payment",
    "payments_paymentallocation",
)


def load(lo: int, hi: int, acc_lo: int) -> float:
    """Invoices ``lo..hi`` over accounts from ``acc_lo`` (20 invoices each); seconds."""
    from django.db import connection, transaction

    accounts = (hi - lo + 1) // PER_ACCOUNT
    params = {"lo": lo, "hi": hi, "acc_lo": acc_lo, "accounts": accounts}
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = 0")
        cur.execute(GROUPS_SQL, {"lo": acc_lo // 10, "hi": (acc_lo + accounts - 1) // 10})
        cur.execute(ACCOUNTS_SQL, {"lo": acc_lo, "hi": acc_lo + accounts - 1})
        cur.execute(LOAD_SQL, params)
    with connection.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        for table in TABLES:
            cur.execute(f"VACUUM (ANALYZE) {table}")
        cur.execute("CHECKPOINT")
    return time.perf_counter() - start


def faces(client) -> dict:
    from datetime import date, timedelta

    from django.urls import reverse
    from django.utils import timezone

    from payments.selectors.aging import aging
    from payments.selectors.overview import finance_overview

    def page(url):
        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    past = (timezone.localdate() - timedelta(days=90)).isoformat()
    report_url = reverse("admin:receivables_aging")
    return {
        "aging() per account": lambda: aging(),
        "aging() per group": lambda: aging(by="group"),
        "finance_overview()": lambda: finance_overview(),
        "report page (admin)": page(report_url),
        "overview page (admin home)": page(reverse("admin:index")),
        "aging() 90 days ago (history)": lambda: aging(as_of=date.fromisoformat(past)),
        "report page 90 days ago (history)": page(f"{report_url}?as_of={past}"),
    }


def measure(client) -> dict[str, float]:
    runs = faces(client)
    samples = {name: [] for name in runs}
    for _ in range(2):
        for run in runs.values():
            run()
    for _ in range(RUNS):
        for name, run in runs.items():  # interleaved: background load hits all alike
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) * 1000 for name, s in samples.items()}


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        found = {}
        for table in TABLES[1:]:
            cur.execute(f"SELECT count(*) FROM {table}")
            found[table] = cur.fetchone()[0]
    return found


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        raise SystemExit("bench: DATABASE_URL must point at PostgreSQL (use bench/run.sh).")
    own = own_database("_receivables")
    os.environ["DATABASE_URL"] = own
    from bench.common import setup_django

    setup_django()
    try:
        return run()
    finally:
        if not os.environ.get("BENCH_RECEIVABLES_KEEP"):  # keep it to EXPLAIN by hand
            drop_database(base_url, own)


def run() -> int:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    boss = get_user_model().objects.create_superuser("bench", "bench@example.test", "x")
    client = Client()
    client.force_login(boss)
    print(f"receivables: loading {SMALL:,} invoices ...", file=sys.stderr, flush=True)
    load_small = load(1, SMALL, 0)
    small, small_rows = measure(client), counts()
    print(f"receivables: loading {BIG - SMALL:,} more ...", file=sys.stderr, flush=True)
    load_big = load(SMALL + 1, BIG, SMALL // PER_ACCOUNT)
    big, big_rows = measure(client), counts()
    return report(small, big, small_rows, big_rows, load_small, load_big)


def report(small, big, small_rows, big_rows, load_small, load_big) -> int:
    judged = ("report page (admin)", "overview page (admin home)")
    ok = all(big[name] / small[name] <= TARGET for name in judged)
    print("## Receivables: the overview and the aging report at 1,000 vs 100,000 invoices\n")
    print(
        f"Durable PostgreSQL, a database of the bench's own; median of {RUNS} runs after two "
        f"warm-ups, interleaved; load average {loadavg()}. Rows: "
        + "; ".join(f"{t} {small_rows[t]:,} → {big_rows[t]:,}" for t in small_rows)
        + f". Bulk load {load_small:.1f} s and {load_big:.1f} s (INSERT ... SELECT, then "
        "VACUUM ANALYZE). Target: ≤ 20× the time for 100× the data (judged on the two admin "
        "pages; the selectors' ratios are shown beside them).\n"
    )
    print("| face | 1,000 invoices (ms) | 100,000 invoices (ms) | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for name in small:
        ratio = big[name] / small[name]
        verdict = ("PASS" if ratio <= TARGET else "FAIL") if name in judged else "—"
        print(f"| {name} | {small[name]:.1f} | {big[name]:.1f} | {ratio:.1f}× | {verdict} |")
    print(f"\nOverall: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
