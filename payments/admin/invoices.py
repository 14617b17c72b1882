"""Invoice admin: drafts and ongoing invoices are edited through the services (line
changes through the wallet-aware ones, so holds follow); issued invoices are read-only.
Issue and Cancel are bulk actions with a confirmation page; the invoice page carries
the payment actions (mark as paid, pay from balance, apply wallet money, force direct
debit, payment link, refund). Registered here, once: its actions are payments' use cases.

Every write goes through a service, which locks the account then the invoice and
re-checks; the forms check the same rules first so bad input is a form error next to
the field; a refusal only the locked service can see becomes a message, nothing saved.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from ledger import services as ledger
from ledger.admin.display import LedgerAdminMedia, money_cell
from ledger.admin.invoice_forms import CancelReasonForm, InvoiceForm, InvoiceLineInline
from ledger.admin_actions import ObjectActionsMixin
from ledger.errors import BillingError
from ledger.models import Invoice, InvoiceLine, InvoiceStatus, LedgerEntry
from ledger.models.invoices import EDITABLE
from ledger.money import format_money
from ledger.services import LineSpec, user_actor
from wallets import services as wallets

from .. import services
from .invoice_actions import INVOICE_ACTIONS


@admin.register(Invoice)
class InvoiceAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_actions = INVOICE_ACTIONS
    change_form_template = "admin/ledger/invoice/payments_change_form.html"
    form = InvoiceForm
    inlines = (InvoiceLineInline,)
    list_display = (
        "number_display",
        "account",
        "status",
        "total_display",
        "amount_due_display",
        "issue_date",
        "due_date",
    )
    list_filter = ("status", "currency")
    search_fields = ("number", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    actions = ("issue_selected", "cancel_selected")
    show_full_result_count = False
    AMOUNT_FIELDS = (
        "currency",
        "total_display",
        "amount_paid_display",
        "amount_credited_display",
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

    # --- display --------------------------------------------------------------------

    @admin.display(description="number", ordering="number")
    def number_display(self, obj):
        return str(obj)

    @admin.display(description="total", ordering="total")
    def total_display(self, obj):
        return money_cell(obj.total)

    @admin.display(description="paid")
    def amount_paid_display(self, obj):
        return money_cell(obj.amount_paid)

    @admin.display(description="prepaid (credit memos)")
    def amount_credited_display(self, obj):
        return money_cell(obj.amount_credited)

    @admin.display(description="amount due")
    def amount_due_display(self, obj):
        return money_cell(obj.amount_due)

    @admin.display(description="ledger")
    def ledger_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:ledger_account_payments", args=[obj.account_id])
        return format_html('<a href="{}">Payments tab of the account</a>', url)

    # --- form layout and permissions --------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        main = (
            None,
            {"fields": ("account", "series", "description", "is_prepaid_order", "due_date")},
        )
        if obj is None:
            return (main,)
        return (
            main,
            ("Amounts", {"fields": self.AMOUNT_FIELDS}),
            (
                "Status",
                {
                    "fields": self.STATUS_FIELDS,
                    # a draft has no number or dates yet: keep the lines within reach
                    "classes": ("collapse",) if obj.status in EDITABLE else (),
                },
            ),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

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
            )
            for field in Invoice._meta.concrete_fields:
                if field.attname != "status":  # FSM-protected; equal anyway (draft)
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

    # --- actions --------------------------------------------------------------------------

    def _confirm(self, request, queryset, *, action, title, verb, form=None):
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": opts,
            "app_label": opts.app_label,
            "invoices": queryset,
            "action": action,
            "verb": verb,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/ledger/invoice/action_confirmation.html", context)

    def issue_one(self, request, invoice: Invoice) -> Invoice:
        return services.issue_invoice(invoice=invoice.pk, actor=user_actor(request.user))

    def cancel_one(self, request, invoice: Invoice, reason: str) -> Invoice:
        return services.cancel_invoice(
            invoice=invoice.pk, actor=user_actor(request.user), reason=reason
        )

    def _selected(self, queryset):
        return list(queryset.select_related("account").order_by("created_at", "pk"))

    @admin.action(
        description="Issue selected invoices (number them and post to the ledger)",
        permissions=["change"],
    )
    def issue_selected(self, request, queryset):
        invoices = self._selected(queryset)
        if request.POST.get("post") != "yes":
            return self._confirm(
                request, invoices, action="issue_selected", title="Issue invoices", verb="Issue"
            )
        for invoice in invoices:
            try:
                with transaction.atomic():  # one invoice, one transaction
                    issued = self.issue_one(request, invoice)
            except BillingError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Invoice {issued.number} issued to {invoice.account.name}: "
                    f"{format_money(issued.total)} posted, due {issued.due_date:%d %b %Y}.",
                    messages.SUCCESS,
                )
        return None

    @admin.action(description="Cancel selected invoices", permissions=["change"])
    def cancel_selected(self, request, queryset):
        invoices = self._selected(queryset)
        form = CancelReasonForm(request.POST if request.POST.get("post") == "yes" else None)
        if not form.is_bound or not form.is_valid():
            return self._confirm(
                request,
                invoices,
                action="cancel_selected",
                title="Cancel invoices",
                verb="Cancel",
                form=form,
            )
        reason = form.cleaned_data["reason"].strip()
        for invoice in invoices:
            try:
                with transaction.atomic():  # one invoice, one transaction
                    cancelled = self.cancel_one(request, invoice, reason)
            except BillingError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                reversal = (
                    LedgerEntry.objects.filter(invoice=cancelled, debit__lt=0)
                    .order_by("-seq")
                    .first()
                    if cancelled.number
                    else None
                )
                posted = (
                    f"; {format_money(-reversal.debit)} credited back to the account"
                    if reversal is not None
                    else ""
                )
                self.message_user(
                    request, f"Invoice {cancelled} cancelled{posted}.", messages.SUCCESS
                )
        return None
