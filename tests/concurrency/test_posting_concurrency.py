"""Posting and invoicing under real concurrency (SPEC section 7, "Concurrent").

PostgreSQL only: real threads, each with its own connection, started together by a
barrier (no sleeps), each closing its connection in ``finally``. SQLite serialises
writers on one file lock, which proves nothing about row locks.
"""

import random
import threading
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from moneyed import Money

from ledger import services
from ledger.errors import StateConflict
from ledger.models import Account, Invoice, InvoiceCounter, LedgerEntry
from ledger.services import LineSpec, Posting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = services.system_actor("concurrency")
THREADS = 4
POSTS_PER_THREAD = 2_000


def run_threads(targets, timeout=120):
    """Start one thread per callable together; return the errors they raised."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(target):
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a worker hung (deadlock?)"
    return errors


def verify():
    """``manage.py verify_ledger`` over everything; raises CommandError on a difference."""
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "consistent" in out.getvalue()


def random_amount(rng: random.Random) -> str:
    """A Decimal string at GBP precision, e.g. '1234.56' — never a float."""
    pence = rng.randint(1, 1_000_000)
    return f"{pence // 100}.{pence % 100:02d}"


def test_concurrent_postings_keep_seq_and_running_balance(make_account):
    account = make_account(name="Hot account")
    posted = [[] for _ in range(THREADS)]

    def worker(n):
        rng = random.Random(1000 + n)
        for i in range(POSTS_PER_THREAD):
            kind = rng.choice(["INVC", "PAYM", "CRED"])
            amount = random_amount(rng)
            if kind != "INVC" and rng.random() < 0.1:
                amount = "-" + amount  # refunds / credit used up
            reference = f"{kind}-T{n}-{i}"
            services.post(
                account=account.pk,
                postings=[Posting(kind=kind, amount=Money(amount, "GBP"), reference=reference)],
                actor=ACTOR,
            )
            posted[n].append((kind, Decimal(amount), reference))

    errors = run_threads([lambda n=n: worker(n) for n in range(THREADS)])
    assert errors == []

    total = THREADS * POSTS_PER_THREAD
    rows = list(
        LedgerEntry.objects.filter(account_id=account.pk)
        .order_by("seq")
        .values_list("seq", "kind", "debit", "credit", "balance_after", "reference", "posted_at")
    )
    assert [r[0] for r in rows] == list(range(1, total + 1)), "seq gapless, no repeat"

    # Every posting landed exactly once, with its own amount in its kind's column.
    by_reference = {r[5]: r for r in rows}
    assert len(by_reference) == total
    for kind, amount, reference in (p for thread in posted for p in thread):
        _, row_kind, debit, credit, *_ = by_reference[reference]
        assert row_kind == kind
        assert (debit, credit) == ((amount, 0) if kind == "INVC" else (0, amount))

    running = Decimal(0)
    previous_time = None
    for seq, _kind, debit, credit, balance_after, _ref, posted_at in rows:
        running += credit - debit
        assert balance_after == running, f"entry {seq}: balance_after broken"
        assert previous_time is None or posted_at >= previous_time, "time follows seq"
        previous_time = posted_at

    sum_credit = sum((r[3] for r in rows), Decimal(0))
    sum_debit = sum((r[2] for r in rows), Decimal(0))
    account = Account.objects.get(pk=account.pk)
    assert account.balance.amount == sum_credit - sum_debit == rows[-1][4] == running
    assert account.last_seq == total
    assert account.last_posted_at == rows[-1][6]
    verify()  # raises CommandError on any difference


def test_concurrent_issue_numbers_are_gapless(make_account):
    """Invoices of different accounts issued at once take numbers 1..N from the locked
    counter; issues rolled back mid-way give their number back."""
    accounts = [make_account(name=f"Issuer {i}") for i in range(8)]
    invoices = [
        services.create_invoice(
            account=accounts[i % len(accounts)],
            actor=ACTOR,
            lines=[LineSpec("Service", "1", f"{10 + i}.00")],
            series="CONC",
        ).pk
        for i in range(80)
    ]
    chunks = [invoices[n::THREADS] for n in range(THREADS)]
    rolled_back = Counter()

    class Abort(Exception):
        pass

    def worker(n):
        rng = random.Random(n)
        for pk in chunks[n]:
            if rng.random() < 0.25:  # a use case that fails after numbering
                try:
                    with transaction.atomic():
                        services.post_invoice(invoice=pk, actor=ACTOR)
                        raise Abort
                except Abort:
                    rolled_back[n] += 1
            services.post_invoice(invoice=pk, actor=ACTOR)

    errors = run_threads([lambda n=n: worker(n) for n in range(THREADS)])
    assert errors == []
    assert sum(rolled_back.values()) > 0

    issued = list(Invoice.objects.filter(pk__in=invoices).values_list("seq_no", "number", "status"))
    assert sorted(s for s, _, _ in issued) == list(range(1, len(invoices) + 1))
    assert {n for _, n, _ in issued} == {f"CONC-{i:06d}" for i in range(1, len(invoices) + 1)}
    assert {s for _, _, s in issued} == {"due"}
    assert InvoiceCounter.objects.get(series="CONC").last_value == len(invoices)
    # One INVC entry per invoice, on its own account.
    invc = Counter(
        LedgerEntry.objects.filter(invoice_id__in=invoices).values_list("invoice_id", flat=True)
    )
    assert invc == Counter(dict.fromkeys(invoices, 1))
    verify()


def race(actions):
    """Run the callables at once; return ('ok', value) or ('refused', error) per action."""
    outcomes = [None] * len(actions)

    def make(i, action):
        def target():
            try:
                outcomes[i] = ("ok", action())
            except StateConflict as err:
                outcomes[i] = ("refused", err)

        return target

    errors = run_threads([make(i, a) for i, a in enumerate(actions)])
    assert errors == []
    return outcomes


def invc_debits(invoice_pk):
    return list(
        LedgerEntry.objects.filter(invoice_id=invoice_pk)
        .order_by("seq")
        .values_list("debit", flat=True)
    )


def test_issue_and_cancel_of_the_same_invoice_race(make_account):
    """issue + cancel at once: whichever wins, the ledger tells one consistent story and
    nothing is posted twice; issue + issue and cancel + cancel: exactly one succeeds."""
    account = make_account(name="Racer")
    seen = Counter()
    for round_no in range(12):
        invoice = services.create_invoice(
            account=account, actor=ACTOR, lines=[LineSpec("Service", "1", "40.00")]
        ).pk
        issue_out, cancel_out = race(
            [
                lambda pk=invoice: services.post_invoice(invoice=pk, actor=ACTOR),
                lambda pk=invoice: services.void_invoice(invoice=pk, actor=ACTOR),
            ]
        )
        assert cancel_out[0] == "ok", "cancel succeeds on a draft and on a due invoice"
        final = Invoice.objects.get(pk=invoice)
        assert final.status == "cancelled"
        if issue_out[0] == "ok":  # issued first, then cancelled: +40 then -40
            seen["issue first"] += 1
            assert final.number is not None
            assert invc_debits(invoice) == [Decimal("40.00"), Decimal("-40.00")]
        else:  # cancelled as a draft first: the issue was refused, nothing posted
            seen["cancel first"] += 1
            assert "is cancelled" in issue_out[1].detail
            assert final.number is None
            assert invc_debits(invoice) == []

        # Two issues of one invoice: one number, one INVC entry.
        twice = services.create_invoice(
            account=account, actor=ACTOR, lines=[LineSpec("Service", "1", "5.00")]
        ).pk
        outcomes = race([lambda pk=twice: services.post_invoice(invoice=pk, actor=ACTOR)] * 2)
        assert sorted(o[0] for o in outcomes) == ["ok", "refused"], round_no
        assert invc_debits(twice) == [Decimal("5.00")]

        # Two cancels of one due invoice: one negative INVC entry.
        outcomes = race([lambda pk=twice: services.void_invoice(invoice=pk, actor=ACTOR)] * 2)
        assert sorted(o[0] for o in outcomes) == ["ok", "refused"], round_no
        assert invc_debits(twice) == [Decimal("5.00"), Decimal("-5.00")]

    account = Account.objects.get(pk=account.pk)
    assert account.balance == Money(0, "GBP"), "every invoice was cancelled"
    numbered = sorted(
        Invoice.objects.filter(series="INV", seq_no__isnull=False).values_list("seq_no", flat=True)
    )
    assert numbered == list(range(1, len(numbered) + 1)), "gapless even under races"
    verify()
    assert sum(seen.values()) == 12
