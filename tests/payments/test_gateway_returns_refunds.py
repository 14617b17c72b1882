"""Returns and refunds as they happen (issue 12, SPEC sections 3 and 5).

A direct-debit return is a failed collection, not a dispute: the invoice owes again as
it was, labelled as a return. A gateway refund is posted when the gateway confirms it;
one the gateway fails leaves no entry and its money visibly owed to the member.
"""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from billing_site.api.payment_serializers import PaymentSerializer
from ledger.errors import StateConflict
from ledger.models import LedgerEntry
from payments import services as pay
from payments.gateways.sandbox import CARD_SUCCESS
from payments.models import CallStatus, GatewayCall, Payment
from payments.services.gateway_refunds import retry_refund

from .conftest import (
    after_commit,
    balance,
    entries_after,
    fresh,
    last_seq,
    snapshot,
    waiting_payment,
)
from .gateway_stubs import UnreachableGateway, use_gateway

pytestmark = pytest.mark.django_db
IBAN_RETURNED = "DE89370400440532010002"  # the sandbox returns it after confirming it


def deliver():
    call_command("deliver_sandbox_events", "--all", verbosity=0)


def paid_by_card(account, issue, actor, amount="75.00"):
    invoice = issue(account, amount)
    payment = waiting_payment(invoice)
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    deliver()
    assert fresh(payment).status == "completed"
    return fresh(invoice), fresh(payment)


# --- direct-debit returns --------------------------------------------------------------


def test_a_direct_debit_return_is_a_failed_collection_not_a_dispute(account, issue, actor):
    invoice = issue(account, "75.00")
    with after_commit():
        pay.force_direct_debit(invoice=invoice, iban=IBAN_RETURNED, actor=actor)
    call_command("deliver_sandbox_events", verbosity=0)  # processing notice
    payment = waiting_payment(invoice) or Payment.objects.get(invoice=invoice)
    deliver()  # confirmed three days later, returned the day after
    invoice = fresh(invoice)
    assert invoice.status == "due" and invoice.amount_due.amount == 75  # owes again
    returned = Payment.objects.get(return_of=payment)
    assert (returned.direction, returned.status, returned.amount.amount) == (
        "outgoing",
        "completed",
        75,
    )
    assert not Payment.objects.filter(dispute_of=payment).exists()
    assert returned.transitions.get(name="create").reason.startswith("Direct debit returned: ")
    last = LedgerEntry.objects.filter(account=account).order_by("-seq").first()
    assert (last.kind, last.credit.amount) == ("PAYM", -75)
    assert last.description.startswith("Direct debit returned: MD06 refund request")
    again = waiting_payment(invoice)
    assert again is not None and again.pk != payment.pk and again.amount.amount == 75
    assert "direct debit returned" in again.transitions.get(name="create").reason
    assert balance(account) == -75
    call_command("verify_ledger")


def test_a_returned_direct_debit_leaves_a_part_paid_invoice_partially_paid(account, issue, actor):
    invoice = issue(account, "100.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", amount="40.00", actor=actor)
    with after_commit():
        pay.force_direct_debit(invoice=invoice, iban=IBAN_RETURNED, actor=actor)
    deliver()
    invoice = fresh(invoice)
    assert invoice.status == "partially_paid" and invoice.amount_due.amount == 60
    assert waiting_payment(invoice).amount.amount == 60
    call_command("verify_ledger")


# --- gateway refunds ---------------------------------------------------------------------


def test_a_gateway_refund_posts_nothing_until_the_gateway_confirms(account, issue, actor):
    invoice, payment = paid_by_card(account, issue, actor)
    seq = last_seq(account)
    with after_commit():
        refund = pay.refund_payment(payment=payment, amount="25.00", actor=actor, reason="late")
    refund = fresh(refund)
    assert refund.status == "processing" and refund.gateway_reference
    assert entries_after(account, seq) == []  # decided, not posted
    assert fresh(invoice).status == "paid" and fresh(invoice).amount_refunded.amount == 0
    payment = fresh(payment)
    assert (payment.refund_pending.amount, payment.reversible.amount) == (25, 50)
    shown = PaymentSerializer(payment).data  # what GET /api/v1/payments/{id}/ answers
    assert shown["refund_pending"] == {"amount": "25.00", "currency": "GBP"}
    assert shown["amount_reversed"] == {"amount": "0.00", "currency": "GBP"}
    call = GatewayCall.objects.get(payment=refund)
    assert (call.kind, call.status, call.request["amount"]) == ("refund", "accepted", "25.00")

    deliver()  # refund.succeeded

    assert fresh(refund).status == "completed"
    kinds = [(k, d, c) for k, d, c, *_ in entries_after(account, seq)]
    assert kinds == [("INVC", D("-25.00"), 0), ("PAYM", 0, D("-25.00"))]
    payment = fresh(payment)
    assert (payment.refund_pending.amount, payment.amount_reversed.amount) == (0, 25)
    invoice = fresh(invoice)
    assert invoice.amount_refunded.amount == 25 and invoice.status == "paid"
    call_command("verify_ledger")


def test_what_a_refund_in_progress_reserved_cannot_be_refunded_twice(account, issue, actor):
    invoice, payment = paid_by_card(account, issue, actor)
    with after_commit():
        pay.refund_payment(payment=payment, amount="50.00", actor=actor)
    before = snapshot()
    with pytest.raises(StateConflict, match="only £25.00 of £75.00 is left"):
        pay.refund_payment(payment=payment, amount="30.00", actor=actor)
    with pytest.raises(StateConflict):
        pay.refund_invoice(invoice=invoice, amount="30.00", actor=actor)
    assert snapshot() == before
    with after_commit():
        [second] = pay.refund_invoice(invoice=invoice, actor=actor)  # the rest: 25
    assert second.amount.amount == 25
    deliver()
    assert fresh(payment).amount_reversed.amount == 75 and fresh(invoice).status == "refunded"
    call_command("verify_ledger")


def test_a_refund_the_gateway_fails_leaves_no_entry_and_the_money_owed(account, issue, actor):
    invoice, payment = paid_by_card(account, issue, actor)
    seq = last_seq(account)
    with after_commit():
        refund = pay.refund_payment(payment=payment, amount="10.13", actor=actor)  # fails
    deliver()  # refund.failed

    refund = fresh(refund)
    assert refund.status == "waiting_for_payment"
    assert refund.decline_reason == "card account closed"
    failure = refund.transitions.order_by("-id").first()
    assert (failure.name, failure.source) == ("fail_processing", "processing")
    assert "still owed to the member" in failure.reason
    assert entries_after(account, seq) == []
    payment = fresh(payment)
    assert (payment.refund_pending.amount, payment.reversible.amount) == (0, 75)
    assert fresh(invoice).amount_refunded.amount == 0
    call_command("verify_ledger")


@pytest.fixture
def billing_admin(db):
    user = get_user_model().objects.create_superuser("boss", "boss@billfold.test", "x")
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_a_failed_refund_and_retry_it(account, issue, actor, billing_admin):
    _invoice, payment = paid_by_card(account, issue, actor)
    with after_commit():
        refund = pay.refund_payment(payment=payment, amount="10.13", actor=actor)
    deliver()
    page = billing_admin.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    text = page.content.decode()
    assert "still owed to the member" in text and refund.number in text
    assert "card account closed" in text
    page = billing_admin.get(reverse("admin:payments_payment_change", args=[refund.pk]))
    text = page.content.decode()
    assert "Retry refund" in text and ">Cancel<" in text
    assert "Mark as paid" not in text  # money owed to the member is not money received

    url = reverse("admin:payments_payment_action", args=[refund.pk, "retry_refund"])
    with after_commit():
        assert billing_admin.post(url).status_code == 302
    refund = fresh(refund)
    assert refund.status == "processing" and fresh(payment).refund_pending.amount == D("10.13")
    assert refund.gateway_calls.count() == 2
    deliver()  # the sandbox fails a .13 refund again
    assert fresh(refund).status == "waiting_for_payment"
    assert fresh(payment).refund_pending.amount == 0
    call_command("verify_ledger")


def test_a_refund_call_that_fails_is_recorded_and_the_money_stays_owed(
    account, issue, actor, settings
):
    _invoice, payment = paid_by_card(account, issue, actor)
    use_gateway(settings, UnreachableGateway)
    seq = last_seq(account)
    with after_commit():
        refund = pay.refund_payment(payment=payment, actor=actor)
    refund = fresh(refund)
    assert refund.status == "waiting_for_payment"
    assert "gateway timed out" in refund.decline_reason
    call = GatewayCall.objects.get(payment=refund)
    assert (call.status, call.attempts) == (CallStatus.FAILED, 1)
    assert "TimeoutError: gateway timed out" in call.error
    assert entries_after(account, seq) == []
    assert fresh(payment).reversible.amount == 75
    with pytest.raises(StateConflict):
        retry_refund(refund=payment, actor=actor)  # not a refund
    call_command("verify_ledger")
