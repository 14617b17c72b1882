"""Receipts are documents (SPEC section 5, issue 12 item 4): their figures are frozen
when the receipt is created and its PDF is rendered from that snapshot only; before
the money arrives it is a request to pay ("Amount to pay", how to pay), after
completion a receipt of the money received (a second frozen snapshot).

Regressions: a receipt sent for £361 later read £161 once the waiting payment shrank
(the PDF was re-rendered from the payment), and it said "Amount received" before any
money had arrived.
"""

import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from pypdf import PdfReader

from billing_site.documents.receipts import render_receipt_pdf
from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment, ReceiptSnapshot
from wallets import services as wallets

pytestmark = pytest.mark.django_db


def text(pdf: bytes) -> str:
    """The PDF's text without whitespace (extraction breaks cells over lines)."""
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(autouse=True)
def verified_ledger():
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="x")


@pytest.fixture
def member_account(make_account, member):
    account = make_account(name="Ada Lovelace Ltd", email="ada@members.test")
    account.members.add(member)
    return account


@pytest.fixture
def receipt(member_account, actor, send_receipt):
    """A £361.00 invoice whose waiting payment got a bank-transfer receipt, sent."""
    draft = ledger.create_invoice(
        account=member_account, actor=actor, lines=[LineSpec("Office", "1", "361.00")]
    )
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    payment = Payment.objects.get(invoice=invoice, status="waiting_for_payment")
    pay.create_receipt(payment=payment, method="bank_transfer", actor=actor)
    send_receipt(payment=payment, actor=actor)
    return Payment.objects.get(pk=payment.pk)


def shrink_by_wallet(payment, actor, amount="200.00"):
    """Wallet money applied to the invoice shrinks its waiting payment (£361 -> £161)."""
    wallet = wallets.create_wallet(account=payment.account_id, name="Prepaid", actor=actor)
    wallets.top_up(wallet=wallet, amount=amount, actor=actor, grant=True)
    pay.apply_wallet(wallet=wallet, invoice=payment.invoice_id, amount=amount, actor=actor)
    return Payment.objects.get(pk=payment.pk)


def test_a_sent_receipt_keeps_its_figures_when_the_payment_shrinks(receipt, actor, mailoutbox):
    sent_pdf = mailoutbox[0].attachments[0][1]
    assert "£361.00" in text(sent_pdf)

    shrunk = shrink_by_wallet(receipt, actor)
    assert str(shrunk.amount.amount) == "161.0000"  # the payment's figures moved

    later = render_receipt_pdf(shrunk)
    assert later == sent_pdf  # the document did not
    assert "£361.00" in text(later) and "£161.00" not in text(later)


def test_before_the_money_arrives_it_is_a_request_to_pay(receipt, settings):
    words = text(render_receipt_pdf(receipt))
    assert f"Receipt{receipt.receipt_number}" in words
    assert "Requestforpayment" in words and "Amounttopay£361.00" in words
    assert "Howtopay" in words and f"Quotethereference{receipt.receipt_number}" in words
    assert "Amountreceived" not in words and "Receivedon" not in words


def test_how_to_pay_names_the_bank_details_from_the_settings(member_account, actor, settings):
    settings.BILLFOLD_PAYEE_BANK_DETAILS = "Billfold Ltd\nSort code 12-34-56\nAccount 12345678"
    draft = ledger.create_invoice(
        account=member_account, actor=actor, lines=[LineSpec("Desk", "1", "20.00")]
    )
    payment = Payment.objects.get(invoice=pay.issue_invoice(invoice=draft, actor=actor))
    payment = pay.create_receipt(payment=payment, method="bank_transfer", actor=actor)
    settings.BILLFOLD_PAYEE_BANK_DETAILS = "Another bank"  # changed later: the receipt is not
    words = text(render_receipt_pdf(payment))
    assert "Sortcode12-34-56" in words and "Account12345678" in words
    assert "Anotherbank" not in words


def test_after_completion_it_is_a_receipt_of_the_money_received(receipt, actor):
    request_pdf = render_receipt_pdf(receipt)
    shrunk = shrink_by_wallet(receipt, actor)
    done = pay.mark_payment_paid(payment=shrunk.pk, method="bank_transfer", actor=actor)

    words = text(render_receipt_pdf(done))
    assert "Paymentreceived" in words and "Amountreceived£161.00" in words
    assert "Receivedon" in words and "Amounttopay" not in words and "Howtopay" not in words
    assert f"{done.invoice.number}£161.00" in words  # the invoice it paid
    versions = ReceiptSnapshot.objects.filter(payment=done).order_by("id")
    assert [v.kind for v in versions] == ["request", "received"]
    assert render_receipt_pdf(versions[0]) == request_pdf  # the request stays as sent


def test_a_receipt_paid_with_more_than_was_asked_shows_the_credit(receipt, actor):
    done = pay.mark_payment_paid(
        payment=receipt.pk, method="bank_transfer", amount="400.00", actor=actor
    )
    figures = ReceiptSnapshot.objects.get(payment=done, kind="received").figures
    assert figures["amount"] == "400.00" and figures["credit"] == "39.00"
    assert figures["invoices"] == [{"number": done.invoice.number, "amount": "361.00"}]


def test_staff_and_member_download_the_same_bytes(receipt, client, member, admin_client):
    client.force_login(member)
    member_pdf = client.get(
        reverse("member-receipt-pdf", args=[receipt.account_id, receipt.pk])
    ).content
    staff_pdf = admin_client.get(
        reverse("admin:payments_payment_receipt", args=[receipt.pk])
    ).content
    assert member_pdf[:4] == b"%PDF" and member_pdf == staff_pdf


def test_the_email_is_written_from_the_snapshot(receipt, mailoutbox):
    message = mailoutbox[0]
    assert message.subject == f"Receipt {receipt.receipt_number}: £361.00 to pay"
    assert "request for payment" in message.body and "£361.00" in message.body


def test_receipt_snapshots_are_never_edited(receipt):
    snapshot = ReceiptSnapshot.objects.get(payment=receipt)
    snapshot.figures = {**snapshot.figures, "amount": "1.00"}
    with pytest.raises(TypeError, match="documents"):
        snapshot.save()
    with pytest.raises(TypeError, match="documents"):
        snapshot.delete()
    with pytest.raises(TypeError, match="append-only"):
        ReceiptSnapshot.objects.filter(payment=receipt).update(figures={})
    table = connection.ops.quote_name(ReceiptSnapshot._meta.db_table)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET figures = '{{}}' WHERE id = %s", [snapshot.pk])
    assert ReceiptSnapshot.objects.get(pk=snapshot.pk).figures["amount"] == "361.00"
