"""The payment admin, registered here once: a payment's page carries documents — the
receipt PDF and *send receipt*, whose email attaches it — and documents are this
layer's. Everything else (the record, its history, the other actions) is
``payments.admin``'s, beside the services it calls."""

from django.contrib import admin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path

from payments.admin.actions import PAYMENT_ACTIONS, fsm_action
from payments.admin.payments import PaymentAdmin
from payments.models import Payment

from .pdf import pdf_download
from .receipts import render_receipt_pdf, send_receipt

SEND_RECEIPT = fsm_action(
    "send_receipt",
    "Send receipt",
    None,
    lambda p, a, d: send_receipt(payment=p.pk, actor=a),
    "Receipt {receipt_number} sent to {receipt_sent_to}.",
)


def _with_send_receipt(actions: dict) -> dict:
    """The payment actions with *send receipt* right after *create receipt*."""
    ordered = {}
    for name, action in actions.items():
        ordered[name] = action
        if name == "create_receipt":
            ordered["send_receipt"] = SEND_RECEIPT
    return ordered


@admin.register(Payment)
class PaymentDocumentsAdmin(PaymentAdmin):
    object_actions = _with_send_receipt(PAYMENT_ACTIONS)

    def get_urls(self):
        receipt = path(
            "<int:object_id>/receipt.pdf",
            self.admin_site.admin_view(self.receipt_view),
            name="payments_payment_receipt",
        )
        return [receipt, *super().get_urls()]

    def receipt_view(self, request, object_id):
        payment = get_object_or_404(Payment.objects.select_related("account"), pk=object_id)
        if not self.has_view_permission(request, payment) or not payment.receipt_number:
            raise Http404("No receipt for this payment.")
        return pdf_download(
            render_receipt_pdf(payment), f"{payment.receipt_number}.pdf", inline=True
        )
