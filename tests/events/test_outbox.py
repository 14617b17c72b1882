"""The outbox: each committed operation leaves exactly one event of its type whose
payload is the API's GET of the object at that moment; a rolled-back one leaves none."""

import pytest
from django.db import transaction

from events import services as events
from events.models import Event, EventType
from ledger import services as ledger
from ledger.errors import BillingError
from payments import services as pay
from tests.api.factories import waiting
from wallets import services as wallets

from .conftest import ACTOR, events_of, invoice, only

pytestmark = pytest.mark.django_db
T = EventType


@pytest.fixture
def acct(db):
    return ledger.create_account(
        name="Outbox Ltd", email="o@example.test", currency="GBP", actor=ACTOR
    )


def get(api, path):
    response = api.get(path)
    assert response.status_code == 200, response.content
    return response.data


def test_an_event_written_then_rolled_back_leaves_nothing(acct):
    inv = invoice(acct, "10.00", issue=True)
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(T.INVOICE_OVERDUE, account=acct, objects={"invoice": inv})
        assert Event.objects.count() == before + 1
        raise RuntimeError("after the event")
    assert Event.objects.count() == before


def test_a_service_failing_after_its_event_leaves_no_event(acct, monkeypatch):
    """issue_invoice emits invoice.issued, then fails opening the waiting payment."""
    draft = invoice(acct, "10.00")

    def broken(*args, **kwargs):
        raise BillingError("the waiting payment could not be opened")

    monkeypatch.setattr("payments.services.issuing.open_waiting_payment", broken)
    with pytest.raises(BillingError):
        pay.issue_invoice(invoice=draft, actor=ACTOR)
    assert events_of(acct) == []
    draft.refresh_from_db()
    assert draft.number is None


def test_an_unknown_type_is_refused(acct):
    with pytest.raises(ValueError, match="unknown event type"):
        events.emit("invoice.exploded", account=acct, objects={})


def test_issue(api, acct):
    inv = pay.issue_invoice(invoice=invoice(acct, "75.00"), actor=ACTOR)
    event = only(acct, T.INVOICE_ISSUED)
    assert event.payload == {"invoice": get(api, f"/api/v1/invoices/{inv.pk}/")}
    assert event.payload["invoice"]["total"] == {"amount": "75.00", "currency": "GBP"}
    assert [e.type for e in events_of(acct)] == [T.INVOICE_ISSUED]


def test_mark_paid(api, acct):
    inv = invoice(acct, "75.00", issue=True)
    payment = pay.mark_invoice_paid(invoice=inv, method="bank_transfer", actor=ACTOR)
    assert only(acct, T.INVOICE_PAID).payload == {
        "invoice": get(api, f"/api/v1/invoices/{inv.pk}/")
    }
    assert only(acct, T.PAYMENT_COMPLETED).payload == {
        "payment": get(api, f"/api/v1/payments/{payment.pk}/")
    }
    assert [e.seq for e in events_of(acct)] == [1, 2, 3]


def test_part_payment_is_completed_but_not_paid(acct):
    inv = invoice(acct, "75.00", issue=True)
    pay.mark_invoice_paid(invoice=inv, method="cash", amount="25.00", actor=ACTOR)
    assert events_of(acct, T.INVOICE_PAID) == []
    only(acct, T.PAYMENT_COMPLETED)


def test_cancel(api, acct):
    inv = invoice(acct, "75.00", issue=True)
    pay.cancel_invoice(invoice=inv, actor=ACTOR, reason="duplicate")
    event = only(acct, T.INVOICE_CANCELLED)
    assert event.payload == {"invoice": get(api, f"/api/v1/invoices/{inv.pk}/")}
    assert event.payload["invoice"]["status"] == "cancelled"


def test_credit_at_issue_pays_the_invoice(api, acct):
    pay.record_payment(account=acct, amount="100.00", method="cash", actor=ACTOR)
    inv = invoice(acct, "75.00", issue=True)
    types = [e.type for e in events_of(acct)]
    assert types == [T.PAYMENT_COMPLETED, T.INVOICE_ISSUED, T.INVOICE_PAID]
    assert only(acct, T.INVOICE_PAID).payload == {
        "invoice": get(api, f"/api/v1/invoices/{inv.pk}/")
    }


def test_refund(api, acct):
    inv = invoice(acct, "75.00", issue=True)
    payment = pay.mark_invoice_paid(invoice=inv, method="bank_transfer", actor=ACTOR)
    refund = pay.refund_payment(payment=payment, amount="30.00", actor=ACTOR, reason="goodwill")
    event = only(acct, T.PAYMENT_REFUNDED)
    assert event.payload == {
        "payment": get(api, f"/api/v1/payments/{payment.pk}/"),
        "refund": get(api, f"/api/v1/payments/{refund.pk}/"),
    }
    assert event.payload["payment"]["amount_reversed"] == {"amount": "30.00", "currency": "GBP"}


def test_dispute(api, acct):
    inv = invoice(acct, "75.00", issue=True)
    payment = pay.mark_invoice_paid(invoice=inv, method="bank_transfer", actor=ACTOR)
    dispute = pay.record_dispute(payment=payment, actor=ACTOR, reason="chargeback")
    event = only(acct, T.PAYMENT_DISPUTED)
    assert event.payload == {
        "payment": get(api, f"/api/v1/payments/{payment.pk}/"),
        "dispute": get(api, f"/api/v1/payments/{dispute.pk}/"),
    }


def test_credit_memo_from_wallet(api, acct):
    inv = invoice(acct, "75.00", issue=True)
    wallet = wallets.create_wallet(account=acct, name="Main", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="500.00", actor=ACTOR, grant=True)
    (memo,) = pay.apply_wallet(wallet=wallet, invoice=inv, actor=ACTOR)
    event = only(acct, T.CREDIT_MEMO_CREATED)
    assert event.payload == {"credit_memo": get(api, f"/api/v1/credit-memos/{memo.pk}/")}
    assert only(acct, T.INVOICE_PAID).payload == {
        "invoice": get(api, f"/api/v1/invoices/{inv.pk}/")
    }
    types = [e.type for e in events_of(acct)]
    assert types.index(T.CREDIT_MEMO_CREATED) < types.index(T.INVOICE_PAID)


def test_top_up_grant(api, acct):
    wallet = wallets.create_wallet(account=acct, name="Main", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="50.00", actor=ACTOR, grant=True)
    event = only(acct, T.WALLET_TOPPED_UP)
    assert event.payload == {"wallet": get(api, f"/api/v1/wallets/{wallet.pk}/"), "payment": None}
    assert event.payload["wallet"]["available"] == {"amount": "50.00", "currency": "GBP"}


def test_top_up_payment(api, acct):
    wallet = wallets.create_wallet(account=acct, name="Main", actor=ACTOR)
    payment = pay.request_wallet_top_up(wallet=wallet, amount="40.00", actor=ACTOR)
    done = pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=ACTOR)
    topped = only(acct, T.WALLET_TOPPED_UP)
    assert topped.payload["wallet"] == get(api, f"/api/v1/wallets/{wallet.pk}/")
    assert topped.payload["payment"]["id"] == done.pk
    assert only(acct, T.PAYMENT_COMPLETED).payload == {
        "payment": get(api, f"/api/v1/payments/{done.pk}/")
    }


def test_rolled_back_operation_leaves_no_event(acct):
    inv = invoice(acct, "75.00", issue=True)
    count = Event.objects.filter(account=acct).count()
    with pytest.raises(BillingError):
        pay.mark_invoice_paid(invoice=inv, method="no_such_method", actor=ACTOR)
    assert Event.objects.filter(account=acct).count() == count
    assert waiting(inv).status == "waiting_for_payment"


def test_gateway_decline_and_card_success(api, acct, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    declined = invoice(acct, "75.00", issue=True)
    payment = waiting(declined)
    with django_capture_on_commit_callbacks(execute=True):
        pay.start_card_payment(payment=payment, card_number="4000000000000002", actor=ACTOR)
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    event = only(acct, T.PAYMENT_FAILED)
    assert event.payload == {"payment": get(api, f"/api/v1/payments/{payment.pk}/")}
    assert event.payload["payment"]["status"] == "waiting_for_payment"
    with django_capture_on_commit_callbacks(execute=True):
        pay.start_card_payment(payment=payment, card_number="4242424242424242", actor=ACTOR)
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    assert only(acct, T.PAYMENT_COMPLETED).payload == {
        "payment": get(api, f"/api/v1/payments/{payment.pk}/")
    }
    only(acct, T.INVOICE_PAID)
