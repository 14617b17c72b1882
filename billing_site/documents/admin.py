"""The payment admin, registered here once: a payment's page carries documents — the
receipt PDF and *send receipt*, whose email attaches it, and a refund's credit notes —
and documents are this layer's. Everything else (the record, its history, the other
actions) is ``payments.admin``'s, beside the services it calls.

Credit notes have a read-only admin of their own (list, page, PDF), seen by whoever may
view invoices."""

from django.contrib import admin
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from ledger.admin.display import ReadOnlyAdminMixin, money_cell
from ledger.admin_actions import ObjectAction
from ledger.models import CreditNote
from payments.admin.actions import PAYMENT_ACTIONS, fsm_action
from payments.admin.payments import PaymentAdmin, ReadOnlyInline
from payments.models import Payment, RefundCreditNote
from payments.selectors import Event, payment_timeline

from .credit_notes import credit_note_download
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


def credit_note_pdf_link(note: CreditNote) -> str:
    url = reverse("admin:ledger_creditnote_pdf", args=[note.pk])
    return format_html('<a href="{}">{}.pdf</a>', url, note.number)


class RefundCreditNoteInline(ReadOnlyInline):
    model = RefundCreditNote
    fk_name = "refund"
    fields = ("credit_note", "invoice", "total", "pdf")
    readonly_fields = fields
    verbose_name_plural = "credit notes"

    @admin.display(description="invoice")
    def invoice(self, obj):
        return obj.credit_note.invoice

    @admin.display(description="total")
    def total(self, obj):
        return money_cell(obj.credit_note.total)

    @admin.display(description="PDF")
    def pdf(self, obj):
        return credit_note_pdf_link(obj.credit_note)


def payment_timeline_with_receipts(payment: Payment) -> list[Event]:
    """The payment's timeline (``payments.selectors``) with its receipt emails: queued,
    sent, or failed with the mail server's answer."""
    events = payment_timeline(payment)
    for email in payment.receipt_emails.order_by("created_at", "id"):
        if email.sent_at:
            events.append(Event(email.sent_at, "", f"Receipt emailed to {email.to}", kind="email"))
        elif email.status == DeliveryStatus.FAILED:
            when = email.last_attempt_at or email.created_at
            what = f"Receipt email to {email.to} failed ({email.attempts} attempts)"
            events.append(Event(when, "", what, None, email.last_error, "email"))
        else:
            what = f"Receipt email to {email.to} waiting to be sent"
            events.append(Event(email.created_at, "", what, kind="email"))
    return sorted(events, key=lambda e: (e.at, e.order))


@admin.register(Payment)
class PaymentDocumentsAdmin(PaymentAdmin):
    object_actions = _with_receipt_actions(PAYMENT_ACTIONS)
    inlines = (*PaymentAdmin.inlines, ReceiptEmailInline, RefundCreditNoteInline)
    timeline = staticmethod(payment_timeline_with_receipts)

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


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Credit notes, read-only: who may view invoices may view (and download) them."""

    list_display = ("number", "issued_at", "account", "invoice", "reason", "total_cell", "pdf")
    list_filter = ("reason",)
    search_fields = ("number", "invoice__number", "account__name")
    list_select_related = ("account", "invoice")
    fields = (
        "number",
        "issued_at",
        "account",
        "invoice",
        "reason",
        "total_cell",
        "entry",
        "actor_label",
        "pdf",
    )
    readonly_fields = fields
    ordering = ("-seq_no",)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("ledger.view_invoice")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="total", ordering="total")
    def total_cell(self, obj):
        return money_cell(obj.total)

    @admin.display(description="PDF")
    def pdf(self, obj):
        return credit_note_pdf_link(obj)

    def get_urls(self):
        pdf = path(
            "<int:object_id>/credit-note.pdf",
            self.admin_site.admin_view(self.pdf_view),
            name="ledger_creditnote_pdf",
        )
        return [pdf, *super().get_urls()]

    def pdf_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise Http404("No such credit note.")
        note = get_object_or_404(CreditNote, pk=object_id)
        return credit_note_download(note, inline=True)
