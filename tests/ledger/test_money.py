"""Money rules (SPEC section 1): Decimal + currency, minor-unit precision enforced, never
silently rounded, never a float."""

from decimal import Decimal

import pytest
from moneyed import Money

from ledger.errors import CurrencyMismatch, InvalidAmount
from ledger.money import (
    check_precision,
    format_money,
    minor_places,
    normalize,
    parse_decimal,
    plain,
    quantum,
    round_money,
    to_money,
)


@pytest.mark.parametrize(
    ("currency", "places"),
    [("GBP", 2), ("EUR", 2), ("USD", 2), ("CHF", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3)],
)
def test_minor_places(currency, places):
    assert minor_places(currency) == places
    assert quantum(currency) == Decimal(1).scaleb(-places)


@pytest.mark.parametrize(
    ("value", "currency"),
    [("10.001", "GBP"), ("10.5", "JPY"), ("1.0001", "KWD"), ("0.0001", "BHD"), ("-0.005", "EUR")],
)
def test_extra_precision_is_refused_not_rounded(value, currency):
    with pytest.raises(InvalidAmount) as exc:
        to_money(value, currency, field="amount")
    err = exc.value
    assert err.field == "amount"
    assert err.http_status == 422
    assert err.code == "invalid_amount"
    assert "more decimal places" in err.detail
    assert currency in err.detail
    assert f"({minor_places(currency)})" in err.detail


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("10.01", "GBP", Decimal("10.01")),
        ("10.10", "GBP", Decimal("10.10")),
        ("10.0000", "GBP", Decimal("10.00")),  # trailing zeros are not extra precision
        ("10", "JPY", Decimal("10")),
        ("1.001", "KWD", Decimal("1.001")),
        ("1.0010", "KWD", Decimal("1.001")),
        (Decimal("-3.25"), "EUR", Decimal("-3.25")),
        (7, "GBP", Decimal("7.00")),
    ],
)
def test_precision_within_the_minor_unit_is_accepted(value, currency, expected):
    money = to_money(value, currency)
    assert money == Money(expected, currency)
    assert isinstance(money.amount, Decimal)
    assert money.amount.as_tuple().exponent == -minor_places(currency)


@pytest.mark.parametrize("value", [10.5, 0.1, 1e3, float("nan")])
def test_floats_are_refused(value):
    with pytest.raises(InvalidAmount) as exc:
        to_money(value, "GBP", field="unit_price")
    assert exc.value.field == "unit_price"
    assert "float" in exc.value.detail


@pytest.mark.parametrize("value", ["abc", "", "1,50", "NaN", "Infinity", True, None])
def test_non_numbers_are_refused(value):
    with pytest.raises(InvalidAmount) as exc:
        parse_decimal(value, field="amount")
    assert exc.value.field == "amount"
    assert exc.value.detail.startswith("amount:")


def test_money_in_another_currency_is_a_mismatch():
    with pytest.raises(CurrencyMismatch) as exc:
        to_money(Money("10.00", "EUR"), "GBP", field="amount")
    err = exc.value
    assert err.field == "amount"
    assert err.http_status == 422
    assert err.code == "currency_mismatch"
    assert "EUR" in err.detail and "GBP" in err.detail


def test_too_large_amount_is_refused():
    with pytest.raises(InvalidAmount) as exc:
        check_precision(Decimal("1e15"), "GBP")
    assert "too large" in exc.value.detail


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("0.025"), "GBP", Decimal("0.03")),  # half-up, not banker's (0.02)
        (Decimal("0.015"), "GBP", Decimal("0.02")),
        (Decimal("3.3330"), "GBP", Decimal("3.33")),
        (Decimal("-0.025"), "GBP", Decimal("-0.03")),
        (Decimal("2.5"), "JPY", Decimal("3")),  # banker's would give 2
        (Decimal("0.0005"), "KWD", Decimal("0.001")),
    ],
)
def test_round_money_is_half_up_at_the_minor_unit(amount, currency, expected):
    assert round_money(amount, currency) == Money(expected, currency)
    assert round_money(amount, currency).amount.as_tuple().exponent == -minor_places(currency)


def test_normalize_plain_and_format():
    stored = Money(Decimal("10.5000"), "GBP")
    assert str(normalize(stored).amount) == "10.50"
    assert plain(Money(Decimal("-12"), "GBP")) == "-12.00"
    assert plain(Money(Decimal("1200.0000"), "JPY")) == "1200"
    assert plain(Money(Decimal("1.5"), "KWD")) == "1.500"
    assert format_money(Money(Decimal("1234.5"), "GBP")) == "£1,234.50"
    assert format_money(Money(Decimal("1200"), "JPY")) in {"¥1,200", "JP¥1,200"}
