"""The payment admin, registered here once: a payment's page carries documents — the
receipt PDF and *send receipt*, whose email attaches it — and documents are this
layer's. Everything else (the record, its history, the other actions) is
``payments.admin``'s, beside the services it calls."""

from django.contrib import admin
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path

from ledger.admin_actions import ObjectAction
from payments.admin.actions import PAYMENT_ACTIONS, fsm_action
from payments.admin.payments import PaymentAdmin, ReadOnlyInline
from payments.models import Payment

from .models import DeliveryStatus, ReceiptEmail
from .pdf import pdf_download
from .receipts import deliver, render_receipt_pdf, send_receipt

SEND_RECEIPT = fsm_action(
    "send_receipt",
    "Send receipt",
    None,
    lambda p, a, d: send_receipt(payment=p.pk, actor=a),
    "Receipt {receipt_number} sent to {receipt_sent_to}.",
)


def _undelivered(payment: Payment):
    return payment.receipt_emails.exclude(status=DeliveryStatus.SENT).order_by("-id").first()


def _retry(payment: Payment, actor, data):
    """Send again the receipt email that failed (after commit: ``deliver`` runs outside
    the action's transaction, holding no lock while it talks to the mail server)."""
    delivery = _undelivered(payment)
    if delivery is not None:
        transaction.on_commit(lambda: deliver(delivery.pk))
    return payment


RETRY_RECEIPT_EMAIL = ObjectAction(
    label="Retry sending receipt",
    permission="payments.send_receipt",
    run=_retry,
    done="Receipt {receipt_number}: sending again to {receipt_sent_to}; see Receipt emails.",
    offered=lambda p, user: _undelivered(p) is not None,
)


def _with_receipt_actions(actions: dict) -> dict:
    """The payment actions with *send receipt* right after *create receipt*, and
    *retry sending* when an email did not leave."""
    ordered = {}
    for name, action in actions.items():
        ordered[name] = action
        if name == "create_receipt":
            ordered["send_receipt"] = SEND_RECEIPT
    ordered["retry_receipt_email"] = RETRY_RECEIPT_EMAIL
    return ordered


class ReceiptEmailInline(ReadOnlyInline):
    model = ReceiptEmail
    fields = ("to", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields
    verbose_name_plural = "receipt emails"


@admin.register(Payment)
class PaymentDocumentsAdmin(PaymentAdmin):
    object_actions = _with_receipt_actions(PAYMENT_ACTIONS)
    inlines = (*PaymentAdmin.inlines, ReceiptEmailInline)

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
