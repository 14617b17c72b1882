"""Invoice admin: drafts and ongoing invoices are edited through the services; issued
invoices are read-only; "Issue" and "Cancel" are admin actions with a confirmation page.

Every write goes through ``ledger.services`` (``create_invoice``, ``add_line``,
``update_line``, ``remove_line``, ``issue_invoice``, ``cancel_invoice``), which lock the
account then the invoice, validate, and keep ``invoice.total`` equal to the sum of its
lines. The forms check the same rules first (currency precision, quantity >= 0), so bad
input is a form error next to the field; a refusal that only the locked service can see
(the invoice was issued meanwhile) becomes an error message and saves nothing.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.module_loading import import_string

from .. import services
from ..errors import BillingError
from ..models import Invoice, InvoiceLine, InvoiceStatus, LedgerEntry
from ..models.invoices import EDITABLE
from ..money import format_money, minor_places, normalize, to_money
from ..services import LineSpec
from .display import LedgerAdminMedia, money_cell

QUANTITY_PLACES = 4


def _invoice_currency(invoice: Invoice | None) -> str | None:
    """The currency lines must be in: the saved invoice's, or its chosen account's.

    (An unsaved invoice's own ``currency`` is only django-money's default, not a choice.)
    """
    if invoice is None:
        return None
    if invoice.pk is not None and invoice.currency:
        return invoice.currency
    try:
        return invoice.account.currency
    except ObjectDoesNotExist:
        return None


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = ("account", "series", "description", "is_prepaid_order", "due_date")

    def clean_series(self):
        series = (self.cleaned_data.get("series") or "").strip().upper()
        if not series or not series.isalnum() or len(series) > 16:
            raise forms.ValidationError("Use letters and digits only (at most 16), e.g. INV.")
        return series


class InvoiceLineForm(forms.ModelForm):
    """A line: description, quantity and unit price (an amount in the invoice currency).

    The price is a plain decimal field (the currency is the invoice's, not a choice), so
    precision is checked against that currency here and refused, never rounded."""

    quantity = forms.DecimalField(
        min_value=0,
        initial=1,
        error_messages={"min_value": "Quantity cannot be negative."},
        widget=forms.NumberInput(attrs={"step": "any", "style": "width: 8em"}),
    )
    unit_price = forms.DecimalField(
        label="Unit price",
        min_value=0,
        error_messages={
            "min_value": "A unit price cannot be negative; give reductions as a credit memo."
        },
        widget=forms.NumberInput(attrs={"step": "any", "style": "width: 9em"}),
    )

    class Meta:
        model = InvoiceLine
        fields = ("description", "quantity", "unit_price")

    def __init__(self, *args, parent_invoice=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The invoice being edited or added (its account chosen in the same POST): the
        # formset passes it, since a new line is not attached to it yet.
        self.parent_invoice = parent_invoice
        if self.instance.pk is not None:
            # Show "10.50", not "£10.50" or the stored "10.5000".
            self.initial["unit_price"] = normalize(self.instance.unit_price).amount
            self.initial["quantity"] = self.instance.quantity.normalize()

    def _currency(self) -> str | None:
        return _invoice_currency(self.parent_invoice)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity != quantity.quantize(quantity.__class__(1).scaleb(-QUANTITY_PLACES)):
            raise forms.ValidationError(
                f"At most {QUANTITY_PLACES} decimal places for a quantity (got {quantity})."
            )
        if quantity >= 10**11:
            raise forms.ValidationError(f"Quantity {quantity} is too large.")
        return quantity

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        currency = self._currency()
        if currency is None:
            return price  # the account field reports its own error
        try:
            return to_money(price, currency, field="unit price").amount
        except BillingError:
            places = minor_places(currency)
            raise forms.ValidationError(
                f"{price} has more decimal places than {currency} allows ({places})."
                if price != price.quantize(price.__class__(1).scaleb(-places))
                else f"{price} is too large."
            ) from None

    def _post_clean(self):
        # The services build and validate the row (currency, amount); the model's own
        # full_clean would check a half-built row (no currency yet) and is skipped.
        pass


class InvoiceLineFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "parent_invoice": self.instance}


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    form = InvoiceLineForm
    formset = InvoiceLineFormSet
    fields = ("description", "quantity", "unit_price", "amount_display", "prepaid_display")
    readonly_fields = ("amount_display", "prepaid_display")
    extra = 1
    ordering = ("position", "id")

    def _editable(self, obj) -> bool:
        return obj is None or obj.status in EDITABLE

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if self._editable(obj) else 0

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)

    @admin.display(description="amount")
    def amount_display(self, line):
        return money_cell(line.amount) if line.pk else "—"

    @admin.display(description="prepaid")
    def prepaid_display(self, line):
        return money_cell(line.prepaid_amount) if line.pk else "—"


class CancelReasonForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=255,
        label="Reason (optional)",
        widget=forms.TextInput(attrs={"size": 60}),
    )


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
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
        actor = services.user_actor(request.user)
        if not change:
            invoice = services.create_invoice(
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
            services.update_invoice(
                invoice=obj.pk, actor=actor, **{name: data[name] for name in header}
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not InvoiceLine:
            return super().save_formset(request, form, formset, change)
        actor = services.user_actor(request.user)
        invoice = form.instance
        deleted = {id(f) for f in formset.deleted_forms} if formset.can_delete else set()
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for line_form in formset.initial_forms:
            line = line_form.instance
            if id(line_form) in deleted:
                services.remove_line(line=line.pk, actor=actor)
                formset.deleted_objects.append(line)
            elif line_form.has_changed():
                data = line_form.cleaned_data
                updated = services.update_line(
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
                services.add_line(invoice=invoice.pk, line=spec, actor=actor)
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

    # The use cases the actions call. Issuing and cancelling span apps (issuing also
    # applies account credit and opens the waiting payment, in ``payments``), and the
    # ledger imports neither of the apps above it: point these settings at the
    # highest app's use case (e.g. ``"payments.services.issue_invoice"``) or override
    # ``issue_one``/``cancel_one`` in a subclass.
    default_issue_use_case = "ledger.services.issue_invoice"
    default_cancel_use_case = "ledger.services.cancel_invoice"

    def issue_one(self, request, invoice: Invoice) -> Invoice:
        path = getattr(settings, "BILLFOLD_ISSUE_INVOICE", None) or self.default_issue_use_case
        result = import_string(path)(invoice=invoice.pk, actor=services.user_actor(request.user))
        return result[0] if isinstance(result, tuple) else result

    def cancel_one(self, request, invoice: Invoice, reason: str) -> Invoice:
        path = getattr(settings, "BILLFOLD_CANCEL_INVOICE", None) or self.default_cancel_use_case
        result = import_string(path)(
            invoice=invoice.pk, actor=services.user_actor(request.user), reason=reason
        )
        return result[0] if isinstance(result, tuple) else result

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
