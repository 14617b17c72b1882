"""Invoice admin: drafts and ongoing invoices are edited through the services (line
changes through the wallet-aware ones, so holds follow — up, down, beyond what is
available); issued invoices are read-only. The page opens with the invoice's money
(total, paid, prepaid, refunded, due, overdue) and carries the actions of its state:
open as ongoing, issue, mark as paid, pay from balance, apply wallet money, force direct
debit, payment link, refund, record dispute, cancel. Issue and Cancel are also bulk
actions of the list. Its *History* is the invoice's timeline in words. Registered here,
once: its actions are payments' use cases.

Every write goes through a service, which locks the account then the invoice and
re-checks; the forms check the same rules first so bad input is a form error next to
the field; a refusal only the locked service can see becomes a message, nothing saved.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html

from ledger import services as ledger
from ledger.admin.display import LedgerAdminMedia, money_cell, status_badge
from ledger.admin.invoice_forms import InvoiceForm, InvoiceLineInline
from ledger.admin_actions import ObjectActionsMixin
from ledger.errors import BillingError
from ledger.models import Invoice, InvoiceLine, InvoiceStatus
from ledger.models.invoices import EDITABLE
from ledger.selectors import amount_owed, is_overdue
from ledger.services import LineSpec, user_actor
from wallets import services as wallets

from ..selectors import invoice_timeline
from .billing_runs import BillingPeriodFilter, period_fieldset
from .invoice_actions import INVOICE_ACTIONS
from .invoice_extras import (
    DueDateFilter,
    InvoiceBulkActionsMixin,
    OverdueFilter,
    due_words,
    invoice_figures,
)
from .timelines import TimelineHistoryMixin, invoice_page_context


@admin.register(Invoice)
class InvoiceAdmin(
    TimelineHistoryMixin, InvoiceBulkActionsMixin, ObjectActionsMixin, admin.ModelAdmin
):
    object_actions = INVOICE_ACTIONS
    change_form_template = "admin/ledger/invoice/payments_change_form.html"
    form = InvoiceForm
    inlines = (InvoiceLineInline,)
    list_display = (
        "number_display",
        "account_name",
        "status_badge",
        "total_display",
        "due_display",
        "due_date_display",
    )
    list_filter = ("status", OverdueFilter, DueDateFilter, BillingPeriodFilter, "currency")
    date_hierarchy = "issue_date"
    search_fields = ("number", "account__name", "description")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    show_full_result_count = False
    AMOUNT_FIELDS = (
        "currency",
        "total_display",
        "amount_paid_display",
        "amount_credited_display",
        "amount_refunded_display",
        "amount_due_display",
    )
    STATUS_FIELDS = (
        "status",
        "number",
        "issue_date",
        "issued_at",
        "cancelled_at",
        "cancel_reason",
        "created_at",
        "created_by",
        "ledger_link",
    )
    readonly_fields = AMOUNT_FIELDS + STATUS_FIELDS  # ``status`` is FSM-protected
    Media = LedgerAdminMedia
    timeline = staticmethod(invoice_timeline)

    # --- display --------------------------------------------------------------------

    @admin.display(description="number", ordering="number")
    def number_display(self, obj):
        return obj.number or f"#{obj.pk} (no number yet)"

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return obj.account.name

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="total", ordering="total")
    def total_display(self, obj):
        return money_cell(obj.total)

    @admin.display(description="due")
    def due_display(self, obj):
        """What it asks for now: nothing for a cancelled invoice, nothing yet for a draft."""
        if obj.status not in EDITABLE and obj.status != InvoiceStatus.CANCELLED:
            return money_cell(amount_owed(obj))
        return format_html('<span class="billfold-money billfold-muted">{}</span>', "—")

    @admin.display(description="due date", ordering="due_date")
    def due_date_display(self, obj):
        if obj.due_date is None:
            return "—"
        if is_overdue(obj):
            days = (timezone.localdate() - obj.due_date).days
            return format_html(
                '{}<span class="billfold-overdue billfold-overdue-mark">overdue {} d</span>',
                obj.due_date.strftime("%d %b %Y"),
                days,
            )
        return obj.due_date.strftime("%d %b %Y")

    @admin.display(description="paid")
    def amount_paid_display(self, obj):
        return money_cell(obj.amount_paid)

    @admin.display(description="prepaid (credit memos)")
    def amount_credited_display(self, obj):
        return money_cell(obj.amount_credited)

    @admin.display(description="refunded")
    def amount_refunded_display(self, obj):
        return money_cell(obj.amount_refunded)

    @admin.display(description="due")
    def amount_due_display(self, obj):
        return due_words(obj)

    @admin.display(description="ledger")
    def ledger_link(self, obj):
        from django.urls import reverse

        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:ledger_account_payments", args=[obj.account_id])
        return format_html('<a href="{}">Payments tab of the account</a>', url)

    # --- form layout and permissions --------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        header = ["account", "series", "description", "is_prepaid_order", "due_date"]
        period = period_fieldset(obj)
        if obj is None:
            return ((None, {"fields": [*header, "ongoing"]}), period)
        return (
            (None, {"fields": header}),
            *([period] if period else []),
            ("Amounts", {"fields": self.AMOUNT_FIELDS, "classes": ("collapse",)}),
            (
                "Status",
                {
                    "fields": self.STATUS_FIELDS,
                    # a draft has no number or dates yet: keep the lines within reach
                    "classes": ("collapse",),
                },
            ),
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.GET.get("ongoing") == "1":
            initial["ongoing"] = True
        return initial

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("account")  # lines are in its currency
        return fields

    def has_change_permission(self, request, obj=None):
        """Issued (and cancelled) invoices are read-only: correct them by cancelling,
        refunding or a credit memo, never by editing."""
        if obj is not None and obj.status not in EDITABLE:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        """Only a draft (no number, nothing posted) may be deleted, one at a time."""
        if obj is None or obj.status != InvoiceStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        invoice = self.get_object(request, object_id)
        if invoice is not None:
            extra.update(invoice_page_context(request, invoice))
            extra["figures"] = invoice_figures(invoice)
        return super().change_view(request, object_id, form_url, extra)

    # --- saving through the services ----------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BillingError as exc:
            # Raised inside the admin's transaction, which has rolled back: nothing saved.
            messages.error(request, f"Nothing was saved: {exc.detail}")
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = user_actor(request.user)
        if not change:
            invoice = ledger.create_invoice(
                account=data["account"],
                actor=actor,
                due_date=data.get("due_date"),
                description=data.get("description", ""),
                series=data.get("series") or "INV",
                is_prepaid_order=data.get("is_prepaid_order", False),
                period_start=data.get("period_start"),
                period_end=data.get("period_end"),
            )
            if data.get("ongoing"):
                invoice = ledger.open_invoice(invoice=invoice.pk, actor=actor)
            for field in Invoice._meta.concrete_fields:
                obj.__dict__[field.attname] = getattr(invoice, field.attname)
            obj._state.adding = False
            obj._state.db = invoice._state.db
            return
        header = [name for name in form.changed_data if name in form.Meta.fields]
        if header:
            ledger.update_invoice(
                invoice=obj.pk, actor=actor, **{name: data[name] for name in header}
            )

    def save_formset(self, request, form, formset, change):
        """Lines through the wallet-aware services: each change of an ongoing invoice's
        lines makes its wallet holds follow the new total (up, down, capped by what the
        wallet has available)."""
        if formset.model is not InvoiceLine:
            return super().save_formset(request, form, formset, change)
        actor = user_actor(request.user)
        invoice = form.instance
        deleted = {id(f) for f in formset.deleted_forms} if formset.can_delete else set()
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for line_form in formset.initial_forms:
            line = line_form.instance
            if id(line_form) in deleted:
                wallets.remove_ongoing_line(line=line.pk, actor=actor)
                formset.deleted_objects.append(line)
            elif line_form.has_changed():
                data = line_form.cleaned_data
                updated = wallets.update_ongoing_line(
                    line=line.pk,
                    actor=actor,
                    description=data["description"],
                    quantity=data["quantity"],
                    unit_price=data["unit_price"],
                )
                formset.changed_objects.append((updated, line_form.changed_data))
        for line_form in formset.extra_forms:
            if id(line_form) in deleted or not line_form.has_changed():
                continue
            data = line_form.cleaned_data
            spec = LineSpec(data["description"], data["quantity"], data["unit_price"])
            formset.new_objects.append(
                wallets.add_ongoing_line(invoice=invoice.pk, line=spec, actor=actor)
            )
        invoice.refresh_from_db(fields=["total", "currency"])
