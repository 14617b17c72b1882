"""Receipt documents: the receipt template rendered to PDF by the one renderer, and the
*send receipt* use case — the transition and a delivery row in one transaction, the
email with the PDF after it commits (no PDF rendering or SMTP under the account lock).

A receipt is rendered from its frozen figures only (``payments.ReceiptSnapshot``: the
request to pay taken when it was created, the money received taken when its payment
completed), never from the payment's current figures; the same bytes whoever downloads
it (staff or member) and whenever.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from moneyed import Money

from ledger.money import format_money
from ledger.services import Actor
from payments import services
from payments.models import Payment, ReceiptKind, ReceiptSnapshot
from payments.services.receipts import latest_snapshot

from .models import DeliveryStatus, ReceiptEmail
from .pdf import render_pdf

log = logging.getLogger(__name__)


def snapshot_of(payment: Payment) -> ReceiptSnapshot:
    """The version of the payment's receipt to show (404 when it has none)."""
    snapshot = latest_snapshot(payment) if payment.receipt_number else None
    if snapshot is None:
        raise Http404("No receipt for this payment.")
    return snapshot


def receipt_context(snapshot: ReceiptSnapshot) -> dict:
    """The template's context, from the frozen figures only (money back into Money)."""
    figures = snapshot.figures
    currency = figures["currency"]
    return {
        "receipt": figures,
        "received": figures["kind"] == ReceiptKind.RECEIVED,
        "amount": Money(figures["amount"], currency),
        "invoices": [
            {"number": row["number"], "amount": Money(row["amount"], currency)}
            for row in figures["invoices"]
        ],
        "credit": Money(figures["credit"], currency) if figures.get("credit") else None,
        "issued_at": parse_datetime(figures["issued_at"]),
        "received_at": parse_datetime(figures.get("received_at") or "") or None,
        "due_date": parse_date(figures.get("due_date") or "") or None,
        "generated_at": parse_datetime(figures["taken_at"]),
    }


def render_receipt_html(payment: Payment | ReceiptSnapshot) -> str:
    snapshot = payment if isinstance(payment, ReceiptSnapshot) else snapshot_of(payment)
    return render_to_string("documents/receipt.html", receipt_context(snapshot))


def render_receipt_pdf(payment: Payment | ReceiptSnapshot) -> bytes:
    """The receipt's PDF (its latest frozen version; or the version given)."""
    return render_pdf(render_receipt_html(payment))


def send_receipt(*, payment: Payment | int, actor: Actor, to: str | None = None) -> Payment:
    """Move the payment to ``receipt_sent`` (``payments.services.send_receipt``) and
    queue its email; the email leaves once that has committed. A refused transition
    queues nothing; a failed send is recorded on the delivery row, never lost."""
    with transaction.atomic():
        sent = services.send_receipt(payment=payment, actor=actor, to=to)
        delivery = ReceiptEmail.objects.create(
            payment=sent, account_id=sent.account_id, to=sent.receipt_sent_to
        )
        transaction.on_commit(lambda: deliver(delivery.pk))
    return sent


def deliver(delivery_id: int) -> ReceiptEmail:
    """Send one queued receipt email (outside any transaction) and record the outcome.

    Claimed with a conditional UPDATE, so two workers retrying at once send it once."""
    claimed = ReceiptEmail.objects.filter(
        pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).update(attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    delivery = ReceiptEmail.objects.select_related("payment", "account").get(pk=delivery_id)
    if not claimed:
        return delivery
    try:
        _email(delivery.payment, delivery.to).send(fail_silently=False)
    except Exception as exc:  # any transport error: record it, staff can retry
        log.warning("receipt email %s to %s failed: %s", delivery.pk, delivery.to, exc)
        ReceiptEmail.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
    else:
        ReceiptEmail.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
        )
    delivery.refresh_from_db()
    return delivery


def deliver_waiting(*, limit: int = 100) -> list[ReceiptEmail]:
    """Retry every pending or failed receipt email (oldest first): the command's job."""
    waiting = ReceiptEmail.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).order_by("created_at", "id")
    return [deliver(pk) for pk in waiting.values_list("pk", flat=True)[:limit]]


def _email(payment: Payment, to: str) -> EmailMessage:
    """The email of the receipt's latest frozen version: its words and its PDF."""
    snapshot = snapshot_of(payment)
    figures = snapshot.figures
    number, method = figures["receipt_number"], figures["payment"]["method_label"]
    amount = format_money(Money(figures["amount"], figures["currency"]))
    if figures["kind"] == ReceiptKind.RECEIVED:
        subject, words = f"Receipt {number}: {amount} received", f"receipt {number}"
    else:
        subject, words = f"Receipt {number}: {amount} to pay", f"request for payment {number}"
    message = EmailMessage(
        subject=subject,
        body=(
            f"Dear {figures['account']['name']},\n\nPlease find attached {words} for "
            f"{amount} ({method}).\n\nBillfold billing"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach(f"{number}.pdf", render_receipt_pdf(snapshot), "application/pdf")
    return message
