"""The rules of invoice input, written once: series, line quantity, unit price, line
description.

The services call them on every write; the admin forms and the API call the same
functions (or show the same patterns), so a rule and its message live here only. Each
raises ``InvalidInput`` (or ``InvalidAmount``) whose ``detail`` reads
``"<field>: <message>"``; :func:`message` gives the part after the field for answers
that name the field apart, :func:`sentence` the same capitalised for a form.
"""

import re
from decimal import Decimal

from moneyed import Money

from .errors import BillingError, InvalidInput
from .money import format_money, parse_decimal, to_money

SERIES_MAX_LENGTH = 16
# ASCII letters and digits: a series becomes part of every invoice number it gives.
SERIES_PATTERN = rf"^[A-Za-z0-9]{{1,{SERIES_MAX_LENGTH}}}$"

# Stored as DECIMAL(15, 4): at most 11 digits before the point and 4 after it.
QUANTITY_PLACES = 4
QUANTITY_INTEGER_DIGITS = 11
QUANTITY_PATTERN = rf"^[0-9]{{1,{QUANTITY_INTEGER_DIGITS}}}(\.[0-9]{{1,{QUANTITY_PLACES}}})?$"

DESCRIPTION_MAX_LENGTH = 255


def message(error: BillingError) -> str:
    """The error's detail without its ``"<field>: "`` prefix."""
    prefix = f"{error.field}: "
    return error.detail.removeprefix(prefix) if error.field else error.detail


def sentence(error: BillingError) -> str:
    """:func:`message`, capitalised: what a form shows under the field it names."""
    text = message(error)
    return text[:1].upper() + text[1:]


def clean_series(value, *, field: str = "series") -> str:
    """A numbering series: letters and digits only, at most 16, stored upper-case."""
    series = str(value or "").strip()
    if not re.fullmatch(SERIES_PATTERN, series):
        raise InvalidInput(f"{field}: letters and digits only, at most 16.", field=field)
    return series.upper()


def clean_quantity(value, *, field: str = "quantity") -> Decimal:
    """A line quantity: a decimal (never a float), not negative, at most 4 places."""
    quantity = parse_decimal(value, field=field)
    if quantity < 0:
        raise InvalidInput(f"{field}: quantity cannot be negative.", field=field)
    if quantity >= Decimal(10) ** QUANTITY_INTEGER_DIGITS:  # before quantize(): no overflow
        raise InvalidInput(f"{field}: quantity {quantity} is too large.", field=field)
    if quantity != quantity.quantize(Decimal(1).scaleb(-QUANTITY_PLACES)):
        raise InvalidInput(
            f"{field}: at most {QUANTITY_PLACES} decimal places (got {quantity}).", field=field
        )
    return quantity


def clean_unit_price(value, currency: str, *, field: str = "unit_price") -> Money:
    """A unit price in the invoice currency at its precision (refused, never rounded),
    not negative: a reduction is a credit memo, not a negative line."""
    price = to_money(value, currency, field=field)
    if price.amount < 0:
        raise InvalidInput(
            f"{field}: unit price cannot be negative (got {format_money(price)}); "
            "give reductions as a credit memo.",
            field=field,
        )
    return price


def clean_description(value, *, field: str = "description") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field}: a line needs a description.", field=field)
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(f"{field}: at most {DESCRIPTION_MAX_LENGTH} characters.", field=field)
    return text


def clean_period(start, end) -> tuple:
    """A billing period: both days or neither, the last on or after the first."""
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise InvalidInput(
            f"{missing}: a billing period needs both its first and its last day.", field=missing
        )
    if start is not None and end < start:
        raise InvalidInput(
            f"period_end: the period's last day ({end.isoformat()}) is before its first "
            f"({start.isoformat()}).",
            field="period_end",
        )
    return start, end
