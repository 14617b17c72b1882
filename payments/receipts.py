"""Receipt documents: HTML template -> PDF with WeasyPrint (one template for both)."""

from django.template.loader import render_to_string
from django.utils import timezone

from .models import Payment


def receipt_context(payment: Payment) -> dict:
    allocations = payment.allocations.select_related("invoice").filter(amount__gt=0)
    return {
        "payment": payment,
        "account": payment.account,
        "allocations": list(allocations),
        "generated_at": timezone.now(),
    }


def render_receipt_html(payment: Payment) -> str:
    return render_to_string("payments/receipt.html", receipt_context(payment))


def render_receipt_pdf(payment: Payment) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_receipt_html(payment)).write_pdf()
