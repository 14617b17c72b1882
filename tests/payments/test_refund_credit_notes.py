"""A refund through a gateway issues its credit note when the gateway confirms it — with
the ``INVC`` entry it explains — and none when the gateway fails it (issue 12 items 3
and 4: the books never say money left that did not)."""

import pytest
from django.core.management import call_command

from ledger.models import CreditNote, LedgerEntry
from payments import services as pay
from payments.models import Payment

from .conftest import after_commit, waiting_payment

pytestmark = pytest.mark.django_db


def deliver():
    call_command("deliver_sandbox_events", "--all")


@pytest.fixture
def card_payment(account, issue, actor):
    payment = waiting_payment(issue(account, "80.00"))
    with after_commit():
        pay.start_card_payment(payment=payment, card_number="4242424242424242", actor=actor)
    deliver()
    return Payment.objects.get(pk=payment.pk)


def test_the_credit_note_comes_with_the_gateways_confirmation(card_payment, actor):
    with after_commit():
        refund = pay.refund_payment(payment=card_payment.pk, amount="30.00", actor=actor)
    assert Payment.objects.get(pk=refund.pk).status == "processing"
    assert not CreditNote.objects.exists()  # decided, not on the books yet

    deliver()

    note = CreditNote.objects.get()
    entry = LedgerEntry.objects.get(kind="INVC", debit__lt=0)
    assert (note.entry, note.total, note.reason) == (entry, -entry.debit, "refund")
    assert note.refund_link.refund_id == refund.pk
    assert Payment.objects.get(pk=refund.pk).status == "completed"


def test_a_refund_the_gateway_fails_issues_no_credit_note(card_payment, actor):
    with after_commit():
        refund = pay.refund_payment(payment=card_payment.pk, amount="30.13", actor=actor)
    deliver()
    assert Payment.objects.get(pk=refund.pk).status == "waiting_for_payment"
    assert not CreditNote.objects.exists()
    assert not LedgerEntry.objects.filter(kind="INVC", debit__lt=0).exists()
