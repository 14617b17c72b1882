"""Benchmark: the period-close billing run (issue 15) on durable PostgreSQL.

A world of ``BENCH_RUN_INVOICES`` (10,000) ongoing invoices whose period ended
yesterday, one per account, half of them held by a wallet (a grant, then a hold of the
invoice's amount), is loaded once through the services (the loader's own session
commits with ``synchronous_commit=off``; the server and the measured phases stay
durable). Each measurement runs on a fresh copy of that database (``CREATE DATABASE …
TEMPLATE``), so every phase issues the same invoices:

* ``one at a time``: ``payments.services.issue_invoice`` called per invoice, each in its
  own transaction, the first ``BENCH_RUN_SAMPLE`` (2,000) invoices in id order;
* ``billing run, 1 worker`` and ``2 workers``: ``manage.py close_period --workers N``
  over all of them (queueing included; batches of 50 through ``batch_issue``, the same
  rows as ``issue_invoice`` written one statement per table), then every invoice is
  checked issued once and the ledger verified.

Target (the issue's): the run with 2 workers issues at ≥ 3× the one-at-a-time rate.
Invoice numbers are gapless per series, so two workers' batches of one series take the
numbering counter in turn: a second worker overlaps only a batch's reading and planning.

    DATABASE_URL=postgres://... .venv/bin/python bench/billing_run_bench.py  # markdown out
"""

import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    drop_database,
    loadavg,
    machine_facts,
    own_database,
    setup_django,
)

INVOICES = int(os.environ.get("BENCH_RUN_INVOICES") or 10_000)
SAMPLE = int(os.environ.get("BENCH_RUN_SAMPLE") or 2_000)
TARGET = 3.0


def _load(n: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from ledger import services as ledger
    from ledger.services import LineSpec
    from payments import services as pay
    from wallets import services as wallets

    actor = ledger.system_actor("bench:billing-run")
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=29)
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")  # the load only; phases are durable
    for i in range(n):
        with transaction.atomic():
            account = ledger.create_account(
                name=f"Run bench {i}", email=f"run{i}@example.test", currency="GBP", actor=actor
            )
            amount = Decimal("20.00") + Decimal(i % 50)
            draft = ledger.create_invoice(
                account=account,
                actor=actor,
                lines=[LineSpec("Usage", "1", amount)],
                period_start=start,
                period_end=end,
            )
            invoice = ledger.open_invoice(invoice=draft, actor=actor)
            if i % 2 == 0:
                wallet = wallets.create_wallet(account=account, name="Prepaid", actor=actor)
                wallets.top_up(wallet=wallet, amount="100.00", actor=actor, grant=True)
                pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = on")


def _admin_sql(sql: str) -> None:
    """Run ``sql`` on the cluster's ``postgres`` database (CREATE/DROP DATABASE)."""
    import psycopg
    from django.db import connection

    conf = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        user=conf["USER"],
        host=conf["HOST"],
        port=conf["PORT"],
        password=conf.get("PASSWORD") or None,
        autocommit=True,
    ) as admin:
        admin.execute(sql)


def _use(db_name: str) -> None:
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = db_name


def _copy(template: str, name: str) -> None:
    _use(template)
    from django.db import connections

    connections.close_all()
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
    _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _use(name)


def _one_at_a_time(sample: int) -> float:
    from ledger.models import Invoice
    from ledger.services import system_actor
    from payments import services as pay

    actor = system_actor("bench:one-at-a-time")
    ids = list(Invoice.objects.filter(status="ongoing").order_by("id").values_list("pk", flat=True))
    ids = ids[:sample]
    started = time.perf_counter()
    for pk in ids:
        pay.issue_invoice(invoice=pk, actor=actor)
    return len(ids) / (time.perf_counter() - started)


def _run(workers: int) -> tuple[float, int]:
    from django.core.management import call_command
    from django.db import connections

    from ledger.models import Invoice, LedgerEntry

    started = time.perf_counter()
    call_command("close_period", "--workers", str(workers), "--no-progress", stdout=_Null())
    seconds = time.perf_counter() - started
    connections.close_all()
    left = Invoice.objects.filter(status="ongoing").count()
    posted = LedgerEntry.objects.filter(kind="INVC", debit__gt=0).count()
    assert left == 0 and posted == INVOICES, (left, posted)
    call_command("verify_ledger", verbosity=0)
    return INVOICES / seconds, posted


class _Null:
    def write(self, *_args):
        pass

    def flush(self):
        pass


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        raise SystemExit("bench: DATABASE_URL must point at PostgreSQL (use bench/run.sh).")
    own = own_database("_billing_run")  # the other benchmarks' rows do not count
    os.environ["DATABASE_URL"] = own
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        return measure(connection.settings_dict["NAME"])
    finally:
        drop_database(base_url, own)


def measure(template: str) -> int:
    work = f"{template}_run"
    print(f"billing run: loading {INVOICES:,} ongoing invoices ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _load(INVOICES)
    load_s = time.perf_counter() - started
    _copy(template, work)
    one = _one_at_a_time(SAMPLE)
    rates = {}
    for workers in (1, 2):
        _copy(template, work)
        rates[workers], _posted = _run(workers)
    _use(template)
    _admin_sql(f'DROP DATABASE IF EXISTS "{work}"')
    ratio = rates[2] / one
    ok = ratio >= TARGET
    print(f"## Billing run: {INVOICES:,} ongoing invoices, half with wallet holds (issue 15)\n")
    facts = machine_facts()
    print(
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {facts['nproc']} × "
        f"{facts['CPU']}, durable PostgreSQL (its own database); loaded through the services "
        f"in {load_s:.0f} s; load average {loadavg()}.\n"
    )
    print("| how | invoices | invoices/s | × one at a time |")
    print("|---|---:|---:|---:|")
    print(f"| `issue_invoice`, one at a time | {SAMPLE:,} | {one:,.0f} | 1.00× |")
    for workers, rate in rates.items():
        print(
            f"| billing run, {workers} worker{'s' if workers > 1 else ''} | {INVOICES:,} "
            f"| {rate:,.0f} | {rate / one:.2f}× |"
        )
    print(
        f"\nTarget: the run with 2 workers at ≥ {TARGET:.0f}× the one-at-a-time rate: "
        f"**{'PASS' if ok else 'FAIL'}** ({ratio:.2f}×). Every run issued each invoice "
        "once and `verify_ledger` passed."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
