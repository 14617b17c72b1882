"""Receipts prepared and sent by hand, then marked as paid; the expiry job (SPEC 5)."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from moneyed import Money

from payments import services as pay
from payments.models import Payment, PaymentTransition
from payments.services.common import create_payment

from .conftest import balance, entries_after, fresh, last_seq, past, snapshot, waiting_payment

pytestmark = pytest.mark.django_db

D = Decimal


def test_receipt_created_sent_by_email_then_marked_paid(
    make_account, issue, staff, staff_user, mailoutbox, send_receipt
):
    account = make_account(email="ada@members.test", name="Ada Lovelace")
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    seq = last_seq(account)

    created = pay.create_receipt(payment=payment, method="bank_transfer", actor=staff)
    assert created.status == "receipt_creating"
    assert created.method == "bank_transfer"
    assert created.receipt_number and created.receipt_created_at
    assert mailoutbox == []

    sent = send_receipt(payment=payment, actor=staff)
    assert sent.status == "receipt_sent"
    assert sent.receipt_sent_to == "ada@members.test" and sent.receipt_sent_at
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ada@members.test"]
    assert created.receipt_number in message.subject
    assert len(message.attachments) == 1
    name, content, mimetype = message.attachments[0]
    assert name == f"{created.receipt_number}.pdf"
    assert mimetype == "application/pdf"
    assert content[:4] == b"%PDF"
    assert entries_after(account, seq) == []  # a receipt moves no money

    done = pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=staff)
    assert done.status == "completed"
    assert entries_after(account, seq) == [
        ("PAYM", D("0"), D("75.00"), f"INVC-{invoice.number}", "bank_transfer")
    ]
    assert fresh(invoice).status == "paid"
    log = list(
        PaymentTransition.objects.filter(payment=payment).values_list(
            "name", "source", "target", "actor_id"
        )
    )
    assert log == [
        ("create", "", "waiting_for_payment", None),
        ("create_receipt", "waiting_for_payment", "receipt_creating", staff_user.pk),
        ("send_receipt", "receipt_creating", "receipt_sent", staff_user.pk),
        ("mark_paid", "receipt_sent", "completed", staff_user.pk),
    ]


def test_receipt_for_cash_can_be_sent_to_another_address(
    account, issue, actor, mailoutbox, send_receipt
):
    invoice = issue(account, "20.00")
    payment = waiting_payment(invoice)
    pay.create_receipt(payment=payment, method="cash", actor=actor)
    send_receipt(payment=payment, actor=actor, to="accounts@company.test")
    assert [m.to for m in mailoutbox] == [["accounts@company.test"]]
    assert fresh(payment).receipt_sent_to == "accounts@company.test"


def test_receipt_already_sent_is_not_sent_twice(account, issue, actor, mailoutbox, send_receipt):
    payment = waiting_payment(issue(account, "20.00"))
    pay.create_receipt(payment=payment, method="cash", actor=actor)
    send_receipt(payment=payment, actor=actor)
    before = snapshot()
    with pytest.raises(Exception, match=rf"{payment.number} .* is receipt_sent"):
        send_receipt(payment=payment, actor=actor)
    assert len(mailoutbox) == 1
    assert snapshot() == before


def test_receipt_keeps_the_method_when_marked_paid(account, issue, actor):
    payment = waiting_payment(issue(account, "20.00"))
    pay.create_receipt(payment=payment, method="cash", actor=actor)
    done = pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=actor)
    assert done.method == "cash"  # the receipt already names the method


# --- expiry --------------------------------------------------------------------------


@pytest.fixture
def expiry_world(make_account, erp_account, issue, actor):
    """Payments of every kind, some past due, some not."""
    account = make_account()
    today = date.today()
    world = {
        "due_yesterday": waiting_payment(issue(account, "10.00", due_date=past(1))),
        "due_long_ago": waiting_payment(issue(account, "11.00", due_date=past(40))),
        "due_today": waiting_payment(issue(account, "12.00", due_date=today)),
        "due_later": waiting_payment(issue(account, "13.00", due_date=today + timedelta(5))),
        "order_past_due": waiting_payment(issue(account, "14.00", prepaid=True, due_date=past(3))),
        "pending_billing_past_due": waiting_payment(issue(erp_account, "15.00", due_date=past(3))),
        "top_up_past_due": create_payment(
            account=account,
            type="top_up",
            amount=Money(D("16.00"), "GBP"),
            actor=actor,
            due_date=past(3),
        ),
    }
    receipt = waiting_payment(issue(account, "17.00", due_date=past(3)))
    pay.create_receipt(payment=receipt, method="cash", actor=actor)
    world["receipt_creating_past_due"] = receipt
    cancelled = waiting_payment(issue(account, "18.00", due_date=past(3)))
    pay.cancel_payment(payment=cancelled, actor=actor)
    world["cancelled_past_due"] = cancelled
    return world


EXPIRING = {"due_yesterday", "due_long_ago"}


def test_expire_only_waiting_postpay_payments_past_due(expiry_world):
    statuses = {k: fresh(p).status for k, p in expiry_world.items()}
    entries_before = snapshot()["entries"]

    assert pay.expire_due_payments(today=date.today()) == 2

    for key, payment in expiry_world.items():
        payment = fresh(payment)
        if key in EXPIRING:
            assert payment.status == "expired", key
            row = payment.transitions.get(name="expire")
            assert (row.source, row.target, row.actor_label) == (
                "waiting_for_payment",
                "expired",
                "system:expire_payments",
            )
            assert row.reason == f"due {payment.due_date}"
        else:
            assert payment.status == statuses[key], key
            assert not payment.transitions.filter(name="expire").exists()
    assert snapshot()["entries"] == entries_before  # expiry posts nothing
    # The invoice is still owed.
    assert fresh(expiry_world["due_yesterday"].invoice).status == "due"


def test_expiry_is_idempotent(expiry_world):
    assert pay.expire_due_payments(today=date.today()) == 2
    before = snapshot()
    assert pay.expire_due_payments(today=date.today()) == 0
    assert pay.expire_due_payments(today=date.today()) == 0
    assert snapshot() == before
    assert PaymentTransition.objects.filter(name="expire").count() == 2


def test_expiry_in_small_batches_expires_everything_once(account, issue):
    payments = [waiting_payment(issue(account, "5.00", due_date=past(2))) for _ in range(7)]
    assert pay.expire_due_payments(batch=3) == 7
    assert {fresh(p).status for p in payments} == {"expired"}
    assert PaymentTransition.objects.filter(name="expire").count() == 7


def test_expired_payment_can_still_be_paid_or_cancelled(account, issue, actor):
    invoice = issue(account, "75.00", due_date=past(2))
    payment = waiting_payment(invoice)
    pay.expire_due_payments()
    assert fresh(payment).status == "expired"
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    assert fresh(payment).status == "completed"
    assert fresh(invoice).status == "paid"
    assert balance(account) == D("0.00")

    other = waiting_payment(issue(account, "10.00", due_date=past(2)))
    pay.expire_due_payments()
    pay.cancel_payment(payment=other, actor=actor)
    assert fresh(other).status == "cancelled"


def test_expire_payments_command(expiry_world):
    out = StringIO()
    call_command("expire_payments", stdout=out)
    assert "2 payment(s) expired" in out.getvalue()
    assert Payment.objects.filter(status="expired").count() == 2
    out = StringIO()
    call_command("expire_payments", "--batch", "1", stdout=out)
    assert "0 payment(s) expired" in out.getvalue()
