"""Money helpers: currency precision, strict parsing, formatting.

Amounts are ``moneyed.Money`` (Decimal + ISO 4217 currency). Input with more decimal
places than the currency's minor unit is refused, never rounded (SPEC section 1).
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency
from moneyed import Money, get_currency

from .errors import CurrencyMismatch, InvalidAmount

# Storage precision of every money column; the currency's own precision is enforced
# by the services (KWD and BHD need 3 places, JPY none).
MAX_DIGITS = 19
DECIMAL_PLACES = 4


def minor_places(currency: str) -> int:
    """Decimal places of the currency's minor unit: GBP 2, JPY 0, KWD 3."""
    sub_unit = get_currency(str(currency)).sub_unit or 1
    return len(str(sub_unit)) - 1


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_places(currency))


# The one grammar for a number written as text (API bodies, admin forms, services):
# ASCII digits, at most one decimal point with digits on both sides. No exponent, no
# "+", no spaces, no thousands separators, no other scripts' digits. A leading "-" is
# read, so that a negative amount is refused as negative, with that reason.
DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
MAX_DECIMAL_TEXT = 40


def parse_decimal(value, *, field: str = "amount") -> Decimal:
    """A Decimal from a string/int/Decimal. Floats are refused (binary rounding); text
    must match ``DECIMAL_TEXT`` exactly ("1e5", " 1.00", "+1", "1.", ".5", "1_000" and
    "١٢٣" are not numbers here, though ``Decimal()`` would take them)."""
    if isinstance(value, float):
        raise InvalidAmount(
            f"{field}: floats are not accepted for money; send a string.", field=field
        )
    if isinstance(value, bool):
        raise InvalidAmount(f"{field}: not a number.", field=field)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        text = str(value)
        if len(text) > MAX_DECIMAL_TEXT or not DECIMAL_TEXT.fullmatch(text):
            raise InvalidAmount(
                f"{field}: {text[:MAX_DECIMAL_TEXT]!r} is not a decimal number: write ASCII "
                "digits with at most one decimal point, e.g. 75.00 (no sign, spaces, "
                "separators or exponent).",
                field=field,
            )
        number = Decimal(text)
    if not number.is_finite():
        raise InvalidAmount(f"{field}: {value!r} is not a finite number.", field=field)
    return number


def check_precision(amount: Decimal, currency: str, *, field: str = "amount") -> Decimal:
    """Return ``amount`` quantized to the currency, or refuse extra precision."""
    if abs(amount) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
        # Before quantize(): 10^30 would overflow the decimal context (a 500, not a 422).
        raise InvalidAmount(f"{field}: {amount} is too large.", field=field)
    q = quantum(currency)
    quantized = amount.quantize(q)
    if quantized != amount:
        raise InvalidAmount(
            f"{field}: {amount} has more decimal places than {currency} allows "
            f"({minor_places(currency)}).",
            field=field,
        )
    if abs(quantized) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
        raise InvalidAmount(f"{field}: {amount} is too large.", field=field)
    return quantized


def to_money(value, currency: str, *, field: str = "amount") -> Money:
    """Strictly build a Money in ``currency`` from Money, Decimal, int or string.

    A Money in another currency is a CurrencyMismatch; extra precision is refused.
    """
    if isinstance(value, Money):
        if str(value.currency) != str(currency):
            raise CurrencyMismatch(
                f"{field}: {value.currency} does not match the account currency {currency}.",
                field=field,
            )
        value = value.amount
    amount = parse_decimal(value, field=field)
    return Money(check_precision(amount, str(currency), field=field), str(currency))


def round_money(amount: Decimal, currency: str) -> Money:
    """Round a computed amount (quantity x price) half-up to the currency's minor unit."""
    return Money(Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP), str(currency))


def normalize(money: Money) -> Money:
    """Strip storage precision: Money('10.5000', 'GBP') -> Money('10.50', 'GBP')."""
    return Money(money.amount.quantize(quantum(str(money.currency))), str(money.currency))


def format_money(money: Money, locale: str = "en_GB") -> str:
    """'£1,234.50', '-£12.00', 'JP¥1,200' — the currency's own precision, always."""
    m = normalize(money)
    return format_currency(m.amount, str(m.currency), locale=locale)


def plain(money: Money) -> str:
    """Decimal string at the currency's precision, for CSV/JSON: '-12.00'."""
    return str(normalize(money).amount)
