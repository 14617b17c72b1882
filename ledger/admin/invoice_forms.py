"""The invoice admin's forms: the header form, the line form (quantity and unit price
checked against the invoice currency, refused rather than rounded) and the lines inline.
The invoice admin itself is registered by ``payments`` (its actions are payments'
use cases); these forms are the ledger's, since lines and totals are.

Every write goes through ``ledger.services`` (``create_invoice``, ``add_line``,
``update_line``, ``remove_line``, ``issue_invoice``, ``cancel_invoice``), which lock the
account then the invoice, validate, and keep ``invoice.total`` equal to the sum of its
lines. The forms check the same rules first (currency precision, quantity >= 0), so bad
input is a form error next to the field; a refusal that only the locked service can see
(the invoice was issued meanwhile) becomes an error message and saves nothing.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.forms.models import BaseInlineFormSet

from ..errors import BillingError
from ..models import Invoice, InvoiceLine
from ..models.invoices import EDITABLE
from ..money import minor_places, normalize, to_money
from .display import money_cell

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
