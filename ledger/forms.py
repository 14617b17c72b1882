"""Form fields for money and quantities typed by staff: the same grammar as the API
(``ledger.money.parse_decimal``), so a malformed amount is a form error next to the
field — what was wrong and why — and the form keeps what was typed."""

from django import forms

from .errors import BillingError
from .money import check_precision, parse_decimal
from .validation import clean_quantity, sentence

# A currency with the most decimal places we store: without a known currency, only the
# size and storage precision can be checked here.
STORAGE_CURRENCY = "KWD"


class AmountField(forms.CharField):
    """A non-negative amount as a Decimal. ``currency`` (set by the form once it knows
    the account) also checks the currency's decimal places; without it, storage's 4."""

    def __init__(self, *, currency: str | None = None, positive: bool = False, **kwargs):
        self.currency, self.positive = currency, positive
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 14}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            amount = parse_decimal(text, field="amount")
            # The currency's places when the form knows it; the service checks them
            # again under its lock (and always knows the account's currency).
            amount = check_precision(amount, self.currency or STORAGE_CURRENCY, field="amount")
        except BillingError as exc:
            raise forms.ValidationError(sentence(exc)) from None
        if amount < 0 or (self.positive and amount == 0):
            raise forms.ValidationError(
                "Enter an amount above zero." if self.positive else "An amount cannot be negative."
            )
        return amount


class QuantityField(forms.CharField):
    """A non-negative quantity (at most 11 digits before the point and 4 after)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 8}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return clean_quantity(text)  # the one quantity rule (ledger.validation)
        except BillingError as exc:
            raise forms.ValidationError(sentence(exc)) from None
