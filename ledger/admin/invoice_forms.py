"""The invoice admin's forms: the header form, the line form (quantity and unit price
checked against the invoice currency, refused rather than rounded) and the lines inline.
The invoice admin itself is registered by ``payments`` (its actions are payments'
use cases); these forms are the ledger's, since lines and totals are.

Every write goes through ``ledger.services`` (``create_invoice``, ``add_line``,
``update_line``, ``remove_line``, ``issue_invoice``, ``cancel_invoice``), which lock the
account then the invoice, validate, and keep ``invoice.total`` equal to the sum of its
lines. The forms run the same rules first (``ledger.validation``: the functions the
services call), so bad input is a form error next to the field, in the service's words;
a refusal that only the locked service can see (the invoice was issued meanwhile)
becomes an error message and saves nothing.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.forms.models import BaseInlineFormSet

from .. import validation
from ..errors import BillingError
from ..forms import AmountField, QuantityField
from ..models import Invoice, InvoiceLine
from ..models.invoices import EDITABLE
from ..money import normalize
from .display import money_cell


def _checked(rule, *args, **kwargs):
    """Run a ``ledger.validation`` rule; its refusal becomes this field's form error."""
    try:
        return rule(*args, **kwargs)
    except BillingError as exc:
        raise forms.ValidationError(validation.sentence(exc)) from None


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
    ongoing = forms.BooleanField(
        required=False,
        label="Open as ongoing",
        help_text="Its amount follows consumption until it is issued (usage is added as "
        "lines); wallet money can hold it, and the hold follows every change.",
    )

    class Meta:
        model = Invoice
        fields = (
            "account",
            "series",
            "description",
            "is_prepaid_order",
            "due_date",
            "period_start",
            "period_end",
        )

    def clean_series(self):
        return _checked(validation.clean_series, self.cleaned_data.get("series"))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        try:
            validation.clean_period(start, end)
        except BillingError as exc:
            self.add_error(exc.field, validation.sentence(exc))
        return data


class InvoiceLineForm(forms.ModelForm):
    """A line: description, quantity and unit price (an amount in the invoice currency).

    The price is a plain decimal field (the currency is the invoice's, not a choice), so
    precision is checked against that currency here and refused, never rounded."""

    quantity = QuantityField(
        initial=1, widget=forms.NumberInput(attrs={"step": "any", "style": "width: 8em"})
    )
    unit_price = AmountField(
        label="Unit price",
        signed=True,  # clean_unit_price refuses a negative price in the service's words
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
        return _checked(validation.clean_quantity, self.cleaned_data["quantity"])

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        currency = self._currency()
        if currency is None:
            return price  # the account field reports its own error
        return _checked(validation.clean_unit_price, price, currency).amount

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
