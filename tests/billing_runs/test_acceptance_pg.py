"""Issue 15's acceptance for the billing run, on PostgreSQL with real processes and
threads: a run killed half-way (``SIGKILL`` of ``manage.py close_period``) and run again
issues every invoice exactly once; two workers at once issue each invoice once; holds
are captured exactly; numbers are gapless; ``verify_ledger`` passes."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections

from ledger.models import Invoice
from payments.models import BillingRun
from payments.selectors.billing_runs import run_counts
from payments.services import billing_runs as runs
from tests.live.server import NOT_INHERITED, NOT_INHERITED_NAMES, database_url
from wallets.models import CreditMemo, Hold

from .conftest import active_holds, assert_gapless, assert_issued_once, verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
D = Decimal


@pytest.fixture
def history(make_account, make_ongoing, held):
    """``n`` ongoing invoices of ended periods, three per account; every fifth with a
    wallet hold (half of those cover only part of the invoice). Returns the invoices
    and each held invoice's hold amount."""

    def make(n: int):
        invoices, holds, account = [], {}, None
        for i in range(n):
            if i % 3 == 0:
                account = make_account()
            invoice = make_ongoing(account, "80.00", f"{i % 7}.25")
            if i % 5 == 0:
                hold = held(invoice, grant="50.00" if i % 10 else "500.00")
                holds[invoice.pk] = hold.amount.amount
            invoices.append(invoice)
        return invoices, holds

    return make


def assert_holds_captured(holds: dict) -> None:
    """Each held invoice's hold became credit memos (one per line it covered, docs/RULES.md
    *Wallets*) adding up to exactly its amount; no hold is left active."""
    captured = Counter()
    for invoice_id, amount in CreditMemo.objects.filter(invoice__in=list(holds)).values_list(
        "invoice_id", "amount"
    ):
        assert amount > 0
        captured[invoice_id] += amount
    assert dict(captured) == holds
    assert active_holds() == 0
    assert Hold.objects.filter(invoice__in=list(holds), status="captured").count() == len(holds)


def issued(invoices) -> int:
    return Invoice.objects.filter(pk__in=[i.pk for i in invoices]).exclude(status="ongoing").count()


def close_period_process(*args) -> subprocess.Popen:
    """``manage.py close_period`` in its own process, on the test database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(NOT_INHERITED) and k not in NOT_INHERITED_NAMES
    }
    env.update(
        DJANGO_SETTINGS_MODULE="billing_site.settings_test",
        DATABASE_URL=database_url(connection.settings_dict),
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "close_period", "--no-progress", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_a_run_killed_half_way_and_run_again_issues_every_invoice_once(history, capsys):
    invoices, holds = history(300)
    process = close_period_process("--batch", "5")
    deadline = time.monotonic() + 60
    try:
        while issued(invoices) < 20:
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "close_period issued nothing in 60 s"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    connection.close()  # a fresh connection: see what the killed process had committed

    run = BillingRun.objects.get()
    counts = run_counts(run)
    half_way = issued(invoices)
    assert run.status == "running" and counts.pending > 0, counts
    assert 20 <= half_way < 300 and counts.issued == half_way  # its last batch rolled back
    assert_gapless()  # the killed batch's numbers were given back

    call_command("close_period", "--batch", "5", "--no-progress")
    out = capsys.readouterr().out
    assert f"{run}: {counts.total:,} invoice(s), {counts.pending:,} to issue." in out
    assert f"{run}: finished — issued 300, failed 0, skipped 0, pending 0." in out
    assert BillingRun.objects.count() == 1
    assert_issued_once(invoices)
    assert_gapless()
    assert_holds_captured(holds)
    verify()


def test_two_workers_at_once_issue_each_invoice_once(history, actor):
    invoices, holds = history(200)
    run = runs.start_run(actor=actor)
    start = threading.Barrier(2)
    done, errors = {}, []

    def worker(name):
        try:
            start.wait(timeout=30)
            done[name] = runs.work_run(run.pk, batch=5)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert done["a"] + done["b"] == 200 and done["a"] > 0 and done["b"] > 0, done
    run.refresh_from_db()
    counts = run_counts(run)
    assert (run.status, counts.issued, counts.failed, counts.pending) == ("finished", 200, 0, 0)
    assert_issued_once(invoices)
    assert_gapless()
    assert_holds_captured(holds)
    verify()


def test_two_close_period_processes_started_together_make_one_run(history):
    """Both start a run at once: one creates it, the other joins it (the one-running
    index); ``--workers 2`` beside a single worker: three workers on one run."""
    invoices, holds = history(150)
    processes = [close_period_process("--workers", "2"), close_period_process()]
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        outputs.append(out.decode())
        assert process.returncode == 0, out.decode()
    run, *later = BillingRun.objects.order_by("id")
    assert run.status == "finished"
    # On a slow machine the second process may start after the first has finished: it
    # then opens a run of its own with nothing left to issue (never an invoice twice).
    assert all(run_counts(other).total == 0 for other in later)
    assert any(f"{run}: " in out for out in outputs), outputs
    counts = run_counts(run)
    assert (counts.total, counts.issued, counts.failed, counts.pending) == (150, 150, 0, 0)
    assert_issued_once(invoices)
    assert_gapless()
    assert_holds_captured(holds)
    verify()
