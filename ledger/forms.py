"""Form fields for money and quantities typed by staff: the same grammar as the API
(``ledger.money.parse_decimal``), so a malformed amount is a form error next to the
field — what was wrong and why — and the form keeps what was typed."""

from decimal import Decimal

from django import forms

from .errors import BillingError
from .money import DECIMAL_PLACES, MAX_DIGITS, check_precision, parse_decimal
from .validation import clean_quantity, sentence


class AmountField(forms.CharField):
    """A non-negative amount as a Decimal. ``currency`` (set by the form once it knows
    the account) also checks the currency's decimal places; without it, storage's 4."""

    def __init__(
        self, *, currency: str | None = None, positive: bool = False, signed: bool = False, **kwargs
    ):
        # signed: the sign is left to the form's own clean_<field> (the service's rule and
        # words, e.g. "unit price cannot be negative ... give reductions as a credit memo").
        self.currency, self.positive, self.signed = currency, positive, signed
        # No max_length: its validator would run on the Decimal; parse_decimal bounds the text.
        # No strip: " 1.00" is refused like everywhere else (one grammar, no spaces).
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 14}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            amount = parse_decimal(text, field="amount")
            if self.currency:
                amount = check_precision(amount, self.currency, field="amount")
        except BillingError as exc:
            raise forms.ValidationError(sentence(exc)) from None
        if not self.currency:
            # Without the currency only the size and storage precision are checked here;
            # the service checks the currency's places under its lock, with the currency.
            if abs(amount) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
                raise forms.ValidationError(f"{amount} is too large.")
            if amount != amount.quantize(Decimal(1).scaleb(-DECIMAL_PLACES)):
                raise forms.ValidationError(f"{amount} has more than {DECIMAL_PLACES} decimals.")
        if self.positive and amount <= 0:
            raise forms.ValidationError("Must be more than zero.")
        if amount < 0 and not self.signed:
            raise forms.ValidationError("An amount cannot be negative.")
        return amount


class QuantityField(forms.CharField):
    """A non-negative quantity (at most 11 digits before the point and 4 after)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)
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
