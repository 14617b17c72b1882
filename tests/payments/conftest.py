"""Fixtures for the payments suite (SPEC sections 3-5).

Every test here runs on the database; after each one ``verify_ledger`` re-derives every
balance from the entries, so no test can leave a ledger that does not add up.
"""

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase
from moneyed import Money

from ledger import services as ledger
from ledger.models import Account, Invoice, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment, PaymentTransition


@pytest.fixture(autouse=True)
def verified_ledger(db):
    """After every test: every account's balance and running balances match its entries."""
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user(
        username="finance", email="finance@billfold.test", password="x", is_staff=True
    )


@pytest.fixture
def staff(staff_user):
    """A user actor: transition-log rows and entries must name this user."""
    return ledger.user_actor(staff_user)


@pytest.fixture
def erp_account(make_account):
    return make_account(erp_managed=True)


@pytest.fixture
def issue(actor):
    """Create and issue an invoice through ``payments.services.issue_invoice`` (credit
    applied, waiting payment opened). Returns the refreshed invoice."""

    def make(account, *amounts, prepaid=False, due_date=None, **kwargs):
        lines = [LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
        draft = ledger.create_invoice(
            account=account, actor=actor, lines=lines, is_prepaid_order=prepaid, **kwargs
        )
        return pay.issue_invoice(invoice=draft, actor=actor, due_date=due_date)

    return make


@pytest.fixture
def credit(actor):
    """Money received without an invoice (a completed top_up, PAYM credit)."""

    def make(account, amount, method="bank_transfer"):
        return pay.record_payment(account=account, amount=amount, method=method, actor=actor)

    return make


def gbp(value) -> Money:
    return Money(Decimal(value), "GBP")


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def waiting_payment(invoice) -> Payment | None:
    """The invoice's single payment still waiting for money (or None)."""
    found = list(
        Payment.objects.filter(
            invoice=invoice,
            direction="incoming",
            status__in=["pending_billing", "waiting_for_payment", "expired"],
        )
    )
    assert len(found) <= 1, f"more than one open payment for {invoice}: {found}"
    return found[0] if found else None


def entries_after(account, seq: int) -> list[tuple]:
    """(kind, debit, credit, reference, method) of the entries posted after ``seq``."""
    return [
        (e.kind, e.debit.amount, e.credit.amount, e.reference, e.method)
        for e in LedgerEntry.objects.filter(account_id=account.pk, seq__gt=seq).order_by("seq")
    ]


def last_seq(account) -> int:
    return Account.objects.get(pk=account.pk).last_seq


def balance(account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance.amount


def snapshot() -> dict:
    """Everything a refused operation must leave untouched."""
    return {
        "entries": list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "balance", "last_seq")),
        "payments": list(
            Payment.objects.order_by("pk").values_list(
                "pk", "status", "method", "amount", "amount_allocated", "amount_reversed"
            )
        ),
        "transitions": PaymentTransition.objects.count(),
        "invoices": list(
            Invoice.objects.order_by("pk").values_list(
                "pk", "status", "amount_paid", "amount_refunded", "amount_credited"
            )
        ),
    }


def past(days: int = 1) -> date:
    return date.today() - timedelta(days=days)


@contextmanager
def after_commit():
    """Run what the services leave for after their transaction commits — the gateway
    calls (``payments.services.gateway_calls``) — as a commit would: the transaction
    pytest-django wraps a test in never commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
