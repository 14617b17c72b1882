"""Money on the wire: ``{"amount": "75.00", "currency": "GBP"}``.

The amount is a decimal *string* at the currency's minor unit; JSON numbers are refused
(a float has already lost precision by the time it is parsed). Extra precision is
refused, never rounded (``ledger.money.to_money``).
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from moneyed import Money
from rest_framework import serializers

from ledger.errors import BillingError
from ledger.money import plain, to_money

AMOUNT_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$"

MONEY_SCHEMA = {
    "type": "object",
    "description": 'An amount of money: `{"amount": "75.00", "currency": "GBP"}`. The amount '
    "is a decimal string with at most the currency's minor-unit decimals (GBP 2, JPY 0, "
    "KWD 3); the currency must be the account's.",
    "properties": {
        "amount": {"type": "string", "pattern": AMOUNT_PATTERN, "example": "75.00"},
        "currency": {"type": "string", "enum": list(settings.CURRENCIES), "example": "GBP"},
    },
    "required": ["amount", "currency"],
    "additionalProperties": False,
}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """Reads and writes ``{"amount": "<decimal string>", "currency": "<ISO 4217>"}``.

    The expected currency, when known, comes from ``context["currency"]`` (the account
    of the object acted on); a serializer whose account is in the body checks it in
    ``validate`` with :func:`check_currency`.
    """

    default_error_messages = {
        "shape": 'expected {{"amount": "<decimal string>", "currency": "<ISO code>"}}.',
        "number": 'amount must be a string such as "75.00", not a JSON number.',
        "currency": "currency {value!r} is not one of {allowed}.",
        "mismatch": "currency {value} does not match the account currency {expected}.",
    }

    def __init__(self, *, positive: bool = False, **kwargs):
        self.positive = positive
        super().__init__(**kwargs)

    def to_representation(self, value: Money):
        return {"amount": plain(value), "currency": str(value.currency)}

    def to_internal_value(self, data) -> Money:
        if not isinstance(data, dict) or set(data) != {"amount", "currency"}:
            self.fail("shape")
        amount, currency = data["amount"], data["currency"]
        if not isinstance(amount, str):
            self.fail("number")
        if not isinstance(currency, str) or currency not in settings.CURRENCIES:
            self.fail("currency", value=currency, allowed=", ".join(settings.CURRENCIES))
        expected = self.context.get("currency")
        if expected and currency != expected:
            raise serializers.ValidationError(
                self.error_messages["mismatch"].format(value=currency, expected=expected),
                code="currency_mismatch",
            )
        try:
            money = to_money(amount, currency, field=self.field_name or "amount")
        except BillingError as exc:
            raise serializers.ValidationError(exc.detail, code=exc.code) from None
        if self.positive and money.amount <= 0:
            raise serializers.ValidationError(
                f"must be positive (got {plain(money)}).", code="invalid_amount"
            )
        return money


def check_currency(money: Money | None, currency: str, field: str) -> None:
    """Raise a field error when ``money`` is not in the account's ``currency``."""
    if money is not None and str(money.currency) != currency:
        raise serializers.ValidationError(
            {field: f"currency {money.currency} does not match the account currency {currency}."},
            code="currency_mismatch",
        )
