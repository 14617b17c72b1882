"""Receipt emails leave after the transaction that sends the receipt has committed:
never under the account's row lock, a failed or hanging mail server is recorded on
the payment's delivery row, and staff (or the command) retry it."""

import socket
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from billing_site.documents.models import ReceiptEmail
from billing_site.documents.receipts import deliver_waiting, send_receipt
from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment


def waiting_receipt(account, actor):
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Desk", "1", "75.00")]
    )
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    payment = Payment.objects.get(invoice=invoice, status="waiting_for_payment")
    pay.create_receipt(payment=payment, method="bank_transfer", actor=actor)
    return payment


class BrokenBackend:
    """An email backend whose server refuses everything."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server refused the connection")


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_recorded_and_retried(account, actor, settings):
    payment = waiting_receipt(account, actor)
    settings.EMAIL_BACKEND = "tests.documents.test_receipt_emails.BrokenBackend"
    sent = send_receipt(payment=payment, actor=actor)
    assert sent.status == "receipt_sent"  # the decision stands; the email is owed
    delivery = ReceiptEmail.objects.get(payment=payment)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "refused" in delivery.last_error
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_receipt_emails", verbosity=0)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert [m.to for m in mail.outbox] == [[account.email]]
    assert mail.outbox[0].attachments[0][0] == f"{sent.receipt_number}.pdf"
    assert deliver_waiting() == []  # nothing left: never sent twice


@pytest.mark.django_db(transaction=True)
def test_staff_retry_from_the_payment_page(account, actor, settings, admin_client):
    payment = waiting_receipt(account, actor)
    settings.EMAIL_BACKEND = "tests.documents.test_receipt_emails.BrokenBackend"
    send_receipt(payment=payment, actor=actor)
    page = admin_client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    assert b"Retry sending receipt" in page.content and b"refused" in page.content

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    url = reverse("admin:payments_payment_action", args=[payment.pk, "retry_receipt_email"])
    response = admin_client.post(url)
    assert response.status_code == 302
    assert ReceiptEmail.objects.get(payment=payment).status == "sent"
    assert len(mail.outbox) == 1
    page = admin_client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    assert b"Retry sending receipt" not in page.content


def a_mail_server_that_never_answers():
    """A TCP socket that accepts connections and says nothing (a hung SMTP server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, accepted


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hanging_mail_server_holds_no_row_lock(account, actor, settings):
    payment = waiting_receipt(account, actor)
    server, accepted = a_mail_server_that_never_answers()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.getsockname()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 2
    probe = {}

    def lock_the_account_meanwhile():
        # While the send waits on the silent server, another connection locks the
        # account row at once (NOWAIT): the sending request holds no lock.
        while not accepted:
            threading.Event().wait(0.02)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM ledger_account WHERE id = %s FOR UPDATE NOWAIT",
                    [account.pk],
                )
                probe["locked"] = cursor.fetchone()[0]
        finally:
            connections.close_all()

    prober = threading.Thread(target=lock_the_account_meanwhile)
    prober.start()
    try:
        sent = send_receipt(payment=payment, actor=actor)
    finally:
        prober.join(10)
        server.close()
    assert probe == {"locked": account.pk}
    assert sent.status == "receipt_sent"
    delivery = ReceiptEmail.objects.get(payment=payment)
    assert delivery.status == "failed" and "timed out" in delivery.last_error.lower()
