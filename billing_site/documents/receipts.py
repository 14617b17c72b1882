"""Receipt documents: the receipt template rendered to PDF by the one renderer, and the
*send receipt* use case (the transition, then the email with the PDF after commit)."""

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from ledger.services import Actor
from payments import services
from payments.models import Payment

from .pdf import render_pdf


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
    """Move the payment to ``receipt_sent`` (``payments.services.send_receipt``) and,
    once that has committed, email the receipt PDF: no PDF rendering or SMTP while the
    account's row lock is held. A refused transition sends nothing."""
    with transaction.atomic():
        sent = services.send_receipt(payment=payment, actor=actor, to=to)
        transaction.on_commit(lambda: email_receipt(sent.pk))
    return sent


def email_receipt(payment_id: int) -> None:
    payment = Payment.objects.select_related("account").get(pk=payment_id)
    message = EmailMessage(
        subject=f"Receipt {payment.receipt_number} for {payment.amount}",
        body=(
            f"Dear {payment.account.name},\n\nPlease find attached receipt "
            f"{payment.receipt_number} for {payment.amount} ({payment.get_method_display()})."
            "\n\nBillfold billing"
        ),
        to=[payment.receipt_sent_to],
    )
    message.attach(f"{payment.receipt_number}.pdf", render_receipt_pdf(payment), "application/pdf")
    message.send(fail_silently=False)
