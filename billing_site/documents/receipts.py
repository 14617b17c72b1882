"""Receipt documents: the receipt template rendered to PDF by the one renderer, and the
*send receipt* use case — the transition and a delivery row in one transaction, the
email with the PDF after it commits (no PDF rendering or SMTP under the account lock)."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from ledger.services import Actor
from payments import services
from payments.models import Payment

from .models import DeliveryStatus, ReceiptEmail
from .pdf import render_pdf

log = logging.getLogger(__name__)


def receipt_context(payment: Payment) -> dict:
    allocations = payment.allocations.select_related("invoice").filter(amount__gt=0)
    return {
        "payment": payment,
        "account": payment.account,
        "allocations": list(allocations),
        "generated_at": timezone.now(),
    }


def render_receipt_html(payment: Payment) -> str:
    return render_to_string("documents/receipt.html", receipt_context(payment))


def render_receipt_pdf(payment: Payment) -> bytes:
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
    message = EmailMessage(
        subject=f"Receipt {payment.receipt_number} for {payment.amount}",
        body=(
            f"Dear {payment.account.name},\n\nPlease find attached receipt "
            f"{payment.receipt_number} for {payment.amount} ({payment.get_method_display()})."
            "\n\nBillfold billing"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach(f"{payment.receipt_number}.pdf", render_receipt_pdf(payment), "application/pdf")
    return message
