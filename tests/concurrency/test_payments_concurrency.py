"""Payments under real concurrency (SPEC section 7), PostgreSQL only.

Real threads, each on its own database connection, released together by a barrier (no
sleeps); every thread closes its connection. Each test ends by re-deriving every
balance from the entries (``verify_ledger``).
"""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from moneyed import Money

from ledger import services as ledger
from ledger.errors import BillingError, StateConflict
from ledger.models import Account, Invoice, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment, PaymentTransition

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls, timeout: float = 60):
    """Run each callable in its own thread, released at once; return
    ``[("ok", result) | ("error", exception), ...]`` in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=timeout)
            results[index] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread hung (deadlock?)"
    return results


def issue(account, amount, actor, *, due_date=None) -> Invoice:
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Service", "1", amount)]
    )
    return pay.issue_invoice(invoice=draft, actor=actor, due_date=due_date)


def paym_entries(account):
    return LedgerEntry.objects.filter(account=account, kind="PAYM")


def verify():
    call_command("verify_ledger", verbosity=0)


def test_two_staff_mark_the_same_invoice_paid(make_account, actor):
    account = make_account()
    invoice = issue(account, "75.00", actor)

    results = run_together(
        lambda: pay.mark_invoice_paid(invoice=invoice.pk, method="cash", actor=actor),
        lambda: pay.mark_invoice_paid(invoice=invoice.pk, method="cheque", actor=actor),
    )

    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], StateConflict), repr(errors[0])
    assert f"Invoice {invoice.number} is paid: nothing is due on it" in str(errors[0])
    assert paym_entries(account).count() == 1
    assert paym_entries(account).get().credit == Money(Decimal("75.00"), "GBP")
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert Payment.objects.filter(invoice=invoice, status="completed").count() == 1
    assert Account.objects.get(pk=account.pk).balance.amount == Decimal("0")
    verify()


def test_two_refunds_of_one_payment_never_exceed_it(make_account, actor):
    account = make_account()
    invoice = issue(account, "75.00", actor)
    payment = pay.mark_invoice_paid(invoice=invoice.pk, method="bank_transfer", actor=actor)

    results = run_together(
        lambda: pay.refund_payment(payment=payment.pk, amount="50.00", actor=actor),
        lambda: pay.refund_payment(payment=payment.pk, amount="40.00", actor=actor),
    )

    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], StateConflict), repr(errors[0])
    message = str(errors[0])
    assert payment.number in message and "cannot refund" in message and "left" in message
    refund = oks[0]
    original = Payment.objects.get(pk=payment.pk)
    assert original.amount_reversed == refund.amount
    assert original.amount_reversed <= original.amount
    assert Payment.objects.filter(refund_of=payment).count() == 1
    refunded = LedgerEntry.objects.filter(account=account, reference=f"PAYM-{refund.number}")
    assert [(e.kind, e.credit.amount) for e in refunded] == [("PAYM", -refund.amount.amount)]
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.amount_refunded == refund.amount
    assert invoice.amount_paid + invoice.amount_refunded == invoice.total
    verify()


def test_two_payments_from_one_balance_never_overdraw(make_account, actor):
    account = make_account()
    first = issue(account, "60.00", actor)
    second = issue(account, "60.00", actor)
    # 90.00 received and not applied: free credit for one 60.00 payment, not two.
    pay.record_payment(account=account, amount="90.00", method="cash", actor=actor)
    waiting = [
        Payment.objects.get(invoice=inv, status="waiting_for_payment") for inv in (first, second)
    ]

    results = run_together(
        *[(lambda p=p: pay.pay_from_balance(payment=p.pk, actor=actor)) for p in waiting]
    )

    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], BillingError), repr(errors[0])
    assert "does not cover" in str(errors[0])
    assert (
        Payment.objects.filter(status="paid_from_balance", invoice__in=[first, second]).count() == 1
    )
    verify()


def test_expiry_from_three_threads_expires_each_payment_once(make_account, actor):
    accounts = [make_account() for _ in range(5)]
    due = date.today() - timedelta(days=2)
    payments = []
    for i in range(50):
        invoice = issue(accounts[i % 5], "10.00", actor, due_date=due)
        payments.append(Payment.objects.get(invoice=invoice))
    issue(accounts[0], "10.00", actor, due_date=date.today() + timedelta(days=3))  # not due

    results = run_together(*[(lambda: pay.expire_due_payments(batch=7)) for _ in range(3)])

    assert all(kind == "ok" for kind, _r in results), results
    counts = [r for _k, r in results]
    assert sum(counts) == 50, counts
    ids = [p.pk for p in payments]
    assert Payment.objects.filter(pk__in=ids, status="expired").count() == 50
    per_payment = {
        pid: PaymentTransition.objects.filter(payment_id=pid, name="expire").count() for pid in ids
    }
    assert set(per_payment.values()) == {1}
    assert PaymentTransition.objects.filter(name="expire").count() == 50
    assert Payment.objects.filter(status="waiting_for_payment").count() == 1
    verify()


def test_refund_and_dispute_of_one_payment_at_once(make_account, actor):
    account = make_account()
    invoice = issue(account, "75.00", actor)
    payment = pay.mark_invoice_paid(invoice=invoice.pk, method="card", actor=actor)

    results = run_together(
        lambda: pay.refund_payment(payment=payment.pk, amount="60.00", actor=actor),
        lambda: pay.record_dispute(payment=payment.pk, amount="60.00", actor=actor),
    )

    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1 and len(errors) == 1, results
    assert isinstance(errors[0], StateConflict) and payment.number in str(errors[0])
    original = Payment.objects.get(pk=payment.pk)
    assert original.amount_reversed == Money(Decimal("60.00"), "GBP")
    assert Payment.objects.filter(direction="outgoing").count() == 1
    verify()
