"""Money from a gateway is never dropped (issue 12, SPEC section 5).

A success for a payment whose invoice was settled, cancelled or changed while the
gateway was processing completes the payment and keeps what the invoice no longer
needs as account credit; an event that arrives before its payment is known is stored
and processed when it is delivered again, when the call naming the payment is
recorded, by ``manage.py retry_gateway_events`` and by *Retry* in the admin.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ledger.models import LedgerEntry
from payments import gateways
from payments import services as pay
from payments.gateways.sandbox import CARD_DECLINE, CARD_SUCCESS
from payments.models import GatewayEvent, Payment, SandboxEvent
from wallets import services as wallets

from .conftest import after_commit, balance, entries_after, fresh, last_seq, waiting_payment
from .gateway_stubs import EagerGateway, use_gateway

pytestmark = pytest.mark.django_db
URL = "/api/v1/gateways/sandbox/webhook/"


def webhook(event: dict):
    """POST a signed event to the real endpoint, as the gateway does."""
    raw = json.dumps(event).encode()
    signature = gateways.by_name("sandbox").sign(raw)
    return Client().post(
        URL, raw, content_type="application/json", HTTP_BILLFOLD_SIGNATURE=signature
    )


def at_the_gateway(invoice, actor, card=CARD_SUCCESS) -> Payment:
    payment = waiting_payment(invoice)
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=card, actor=actor)
    return fresh(payment)


def success(payment, event_id="evt_ok"):
    return {
        "id": event_id,
        "type": "payment.succeeded",
        "payment_reference": payment.gateway_reference,
    }


@pytest.fixture
def wallet(account, actor):
    made = wallets.create_wallet(account=account, name="Prepaid", actor=actor)
    wallets.top_up(wallet=made, amount="100.00", actor=actor, grant=True)
    return made


def test_a_card_payment_whose_invoice_a_wallet_settled_meanwhile_is_kept_as_credit(
    account, issue, actor, wallet
):
    invoice = issue(account, "75.00")
    payment = at_the_gateway(invoice, actor)
    pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)  # paid while processing
    assert fresh(invoice).status == "paid" and balance(account) == 0
    seq = last_seq(account)

    answer = webhook(success(payment))

    assert answer.status_code == 200, answer.json()  # was 422, the payment left processing
    assert answer.json()["status"] == "processed"
    payment = fresh(payment)
    assert payment.status == "completed"
    assert payment.amount_allocated.amount == 0 and payment.unallocated.amount == 75
    assert balance(account) == 75  # the card's money, as account credit
    [(kind, debit, credit, reference, method)] = entries_after(account, seq)
    assert (kind, debit, credit, reference, method) == (
        "PAYM",
        0,
        75,
        payment.reference_code,
        "card",
    )
    entry = LedgerEntry.objects.get(account=account, seq=seq + 1)
    assert "account credit" in entry.description and entry.invoice_id is None
    note = payment.transitions.get(name="complete_from_gateway").reason
    assert f"invoice {invoice.number} is paid" in note and "kept as account credit" in note
    assert fresh(invoice).status == "paid"
    assert waiting_payment(invoice) is None
    call_command("verify_ledger")


def test_what_the_invoice_still_owes_is_allocated_and_the_rest_kept_as_credit(
    account, issue, actor, wallet
):
    invoice = issue(account, "75.00")
    payment = at_the_gateway(invoice, actor)
    pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor, amount="30.00")
    assert fresh(invoice).status == "partially_paid"

    assert webhook(success(payment)).status_code == 200

    payment = fresh(payment)
    assert payment.status == "completed"
    assert (payment.amount_allocated.amount, payment.unallocated.amount) == (45, 30)
    assert fresh(invoice).status == "paid" and balance(account) == 30
    note = payment.transitions.get(name="complete_from_gateway").reason
    assert "owed only £45.00: £30.00 kept as account credit" in note
    assert waiting_payment(invoice) is None
    call_command("verify_ledger")


def test_a_late_success_for_a_payment_given_up_on_is_kept_as_credit(account, issue, actor):
    """Declined, the invoice cancelled (and its payment with it), then the gateway says
    the money was taken after all: recorded as account credit, on a payment of its own."""
    invoice = issue(account, "75.00")
    payment = at_the_gateway(invoice, actor, card=CARD_DECLINE)
    reference = payment.gateway_reference
    answer = webhook({"id": "evt_no", "type": "payment.failed", "payment_reference": reference})
    assert answer.status_code == 200 and fresh(payment).status == "waiting_for_payment"
    pay.cancel_invoice(invoice=invoice, actor=actor, reason="not wanted")
    assert fresh(payment).status == "cancelled"

    answer = webhook(success(payment, "evt_late"))

    assert answer.status_code == 200 and "kept as account credit" in answer.json()["detail"]
    credit = Payment.objects.get(account=account, type="top_up")
    assert (credit.status, credit.method, credit.amount.amount) == ("completed", "card", 75)
    assert credit.reference == reference and payment.number in credit.note
    assert fresh(payment).status == "cancelled"
    assert balance(account) == 75
    call_command("verify_ledger")


def test_an_unknown_event_is_stored_and_processed_when_delivered_again(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    event = {"id": "evt_early", "type": "payment.succeeded", "payment_reference": "sbx_ch_x"}
    first = webhook(event)
    assert first.status_code == 202 and first.json()["status"] == "unknown_payment"
    assert fresh(payment).status == "processing"
    # The gateway's answer to the call (with this reference) is recorded meanwhile.
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="sbx_ch_x")

    again = webhook(event)  # was answered "duplicate" and never processed

    assert again.status_code == 200 and again.json()["status"] == "processed"
    assert fresh(payment).status == "completed" and fresh(invoice).status == "paid"
    third = webhook(event)
    assert third.json()["status"] == "duplicate"
    assert LedgerEntry.objects.filter(account=account, kind="PAYM").count() == 1
    record = GatewayEvent.objects.get(event_id="evt_early")
    assert (record.status, record.deliveries, record.payment_id) == ("processed", 3, payment.pk)


def test_an_event_that_overtakes_the_calls_answer_is_processed_when_it_is_recorded(
    account, issue, actor, settings
):
    use_gateway(settings, EagerGateway)
    EagerGateway.answers.clear()
    invoice = issue(account, "75.00")
    payment = at_the_gateway(invoice, actor)
    assert [status for status, _body in EagerGateway.answers] == [202]  # not known yet
    assert fresh(payment).status == "completed" and fresh(invoice).status == "paid"
    assert GatewayEvent.objects.get(event_id="evt_eager").status == "processed"
    call_command("verify_ledger")


def test_the_command_retries_every_pending_event(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = at_the_gateway(invoice, actor)
    early = {"id": "evt_cb", "type": "payment.disputed", "payment_reference": "unknown"}
    assert webhook(early).status_code == 202
    unknown = {"id": "evt_u", "type": "payment.succeeded", "payment_reference": "later"}
    assert webhook(unknown).status_code == 202
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="later")

    call_command("retry_gateway_events", verbosity=0)

    assert GatewayEvent.objects.get(event_id="evt_u").status == "processed"
    assert GatewayEvent.objects.get(event_id="evt_cb").status == "unknown_payment"  # still
    assert fresh(payment).status == "completed"
    call_command("retry_gateway_events", verbosity=0)  # never twice
    assert LedgerEntry.objects.filter(account=account, kind="PAYM").count() == 1


@pytest.fixture
def billing_admin(db):
    user = get_user_model().objects.create_superuser("boss", "boss@billfold.test", "x")
    client = Client()
    client.force_login(user)
    return client


def test_staff_retry_a_stored_event_from_the_admin(account, issue, actor, billing_admin):
    invoice = issue(account, "75.00")
    payment = at_the_gateway(invoice, actor)
    SandboxEvent.objects.all().delete()  # the test sends the gateway's events itself
    assert webhook(success(payment, "evt_a") | {"payment_reference": "r1"}).status_code == 202
    record = GatewayEvent.objects.get(event_id="evt_a")
    page = billing_admin.get(reverse("admin:payments_gatewayevent_change", args=[record.pk]))
    assert b">Retry</button>" in page.content
    retry = reverse("admin:payments_gatewayevent_retry", args=[record.pk])
    assert billing_admin.get(retry).status_code == 403  # POST only

    Payment.objects.filter(pk=payment.pk).update(gateway_reference="r1")
    assert billing_admin.post(retry).status_code == 302

    assert fresh(record).status == "processed" and fresh(payment).status == "completed"
    page = billing_admin.get(reverse("admin:payments_gatewayevent_change", args=[record.pk]))
    assert b">Retry</button>" not in page.content
    # The bulk action on the list, for several at once.
    assert webhook(success(payment, "evt_b") | {"payment_reference": "r2"}).status_code == 202
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="r2")
    changelist = reverse("admin:payments_gatewayevent_changelist")
    other = GatewayEvent.objects.get(event_id="evt_b")
    billing_admin.post(changelist, {"action": "retry_events", "_selected_action": [other.pk]})
    assert (fresh(other).status, fresh(other).detail) == ("stale", "already completed")
    assert LedgerEntry.objects.filter(account=account, kind="PAYM").count() == 1


def test_a_clerk_without_the_permission_cannot_retry(account, issue, actor):
    assert webhook({"id": "e", "type": "payment.succeeded", "payment_reference": "n"}).status_code
    record = GatewayEvent.objects.get(event_id="e")
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_gatewayevent"))
    client = Client()
    client.force_login(viewer)
    retry = reverse("admin:payments_gatewayevent_retry", args=[record.pk])
    assert client.post(retry).status_code == 403
    assert fresh(record).status == "unknown_payment"
