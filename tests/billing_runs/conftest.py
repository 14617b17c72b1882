"""A history for billing runs: ongoing invoices of ended and running periods, with and
without wallet holds, account credit, a mandate, an ERP-managed account."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from ledger import services as ledger
from ledger.models import Invoice, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets
from wallets.models import Hold

IBAN = "DE89 3704 0044 0532 0130 00"
D = Decimal


def today():
    return timezone.localdate()


def last_month():
    """The period that ended yesterday at the latest: the 30 days before yesterday."""
    end = today() - timedelta(days=1)
    return end - timedelta(days=29), end


@pytest.fixture
def make_ongoing(actor):
    """An ongoing invoice covering ``period`` (default: ended yesterday)."""

    def make(account, *amounts, period=None):
        start, end = period or last_month()
        lines = [LineSpec(f"Usage {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
        draft = ledger.create_invoice(
            account=account, actor=actor, lines=lines, period_start=start, period_end=end
        )
        return ledger.open_invoice(invoice=draft, actor=actor)

    return make


@pytest.fixture
def held(actor):
    """Hold ``amount`` of a fresh wallet (granted ``grant``) on the ongoing invoice."""

    def make(invoice, grant="1000.00"):
        wallet = wallets.create_wallet(account=invoice.account_id, name="Prepaid", actor=actor)
        wallets.top_up(wallet=wallet, amount=grant, actor=actor, grant=True)
        return pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)

    return make


@pytest.fixture
def mandate(actor):
    def make(account, reference="MD-RUN-1"):
        return pay.create_mandate(
            account=account, reference=reference, signed_on=today(), iban=IBAN, actor=actor
        )

    return make


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def invc_entries(invoice) -> int:
    """How many times the invoice was posted (its positive INVC entries)."""
    return LedgerEntry.objects.filter(invoice=invoice, kind="INVC", debit__gt=0).count()


def assert_issued_once(invoices):
    numbers = []
    for invoice in invoices:
        invoice = fresh(invoice)
        assert invoice.status not in ("ongoing", "draft"), invoice
        assert invc_entries(invoice) == 1, invoice
        numbers.append(invoice.seq_no)
    assert len(set(numbers)) == len(numbers)


def assert_gapless():
    seqs = sorted(
        Invoice.objects.filter(series="INV").exclude(seq_no=None).values_list("seq_no", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


def verify():
    call_command("verify_ledger", verbosity=0)


def active_holds():
    return Hold.objects.filter(status="active").count()
