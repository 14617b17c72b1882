"""The rules of invoice input live once (``ledger.validation``): the service, the admin's
invoice forms and the API's series field refuse the same values in the same words."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework import serializers

from billing_site.api.invoice_serializers import DecimalString, SeriesField
from ledger import services, validation
from ledger.errors import InvalidInput
from ledger.models import Invoice, InvoiceLine
from ledger.services import LineSpec

pytestmark = pytest.mark.django_db

BAD_SERIES = ["IN-V", "FACTÉ", "²", "A" * 17, "ß" * 16]


def admin_errors(admin_client, account, *, series="INV", **line):
    data = {
        "account": str(account.pk),
        "series": series,
        "description": "Consulting",
        "due_date": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **{f"lines-0-{k}": v for k, v in {"description": "Hosting", **line}.items()},
    }
    response = admin_client.post(reverse("admin:ledger_invoice_add"), data)
    assert response.status_code == 200
    return re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', response.content.decode())


@pytest.mark.parametrize("series", BAD_SERIES)
def test_a_series_is_ascii_letters_and_digits_everywhere(admin_client, account, actor, series):
    with pytest.raises(InvalidInput) as exc:
        services.create_invoice(account=account, actor=actor, series=series)
    assert exc.value.detail == "series: letters and digits only, at most 16."
    invoice = services.create_invoice(account=account, actor=actor)
    with pytest.raises(InvalidInput):
        services.update_invoice(invoice=invoice, actor=actor, series=series)
    with pytest.raises(serializers.ValidationError) as api:
        SeriesField().run_validation(series)
    assert api.value.detail == ["letters and digits only, at most 16."]
    if len(series) <= 16:  # longer: the model field's own length check answers first
        errors = admin_errors(admin_client, account, series=series, quantity="1", unit_price="1")
        assert "Letters and digits only, at most 16." in errors
    assert Invoice.objects.count() == 1


def test_a_good_series_is_trimmed_and_upper_cased_everywhere(account, actor):
    assert services.create_invoice(account=account, actor=actor, series=" cn1 ").series == "CN1"
    assert SeriesField().run_validation(" cn1 ") == "CN1"
    assert validation.clean_series("cn1") == "CN1"


@pytest.mark.parametrize(
    ("quantity", "price", "field", "words"),
    [
        ("-1", "10.00", "quantity", "Quantity cannot be negative."),
        ("1.00001", "10.00", "quantity", "At most 4 decimal places (got 1.00001)."),
        ("100000000000", "10.00", "quantity", "Quantity 100000000000 is too large."),
        ("1", "-3.00", "unit_price", "Unit price cannot be negative (got -£3.00); give "),
        ("1", "10.005", "unit_price", "10.005 has more decimal places than GBP allows (2)."),
    ],
)
def test_form_and_service_refuse_a_line_in_the_same_words(
    admin_client, account, actor, quantity, price, field, words
):
    with pytest.raises(InvalidInput) as exc:
        services.create_invoice(
            account=account, actor=actor, lines=[LineSpec("Hosting", quantity, price)]
        )
    assert exc.value.field == f"lines[0].{field}"
    assert validation.sentence(exc.value).startswith(words)
    assert any(
        e.startswith(words)
        for e in admin_errors(admin_client, account, quantity=quantity, unit_price=price)
    )
    assert Invoice.objects.count() == 0 and InvoiceLine.objects.count() == 0


def test_the_api_schema_patterns_are_the_ledger_rules():
    patterns = [v.regex.pattern for v in SeriesField().validators if hasattr(v, "regex")]
    assert patterns == [validation.SERIES_PATTERN]
    pattern = re.compile(validation.QUANTITY_PATTERN)
    for good in ("0", "1", "1.5", "99999999999.9999"):
        assert pattern.fullmatch(good)
        assert validation.clean_quantity(good) == Decimal(good)
    for bad in ("-1", "1.00001", "100000000000"):
        assert not pattern.fullmatch(bad)
        with pytest.raises(InvalidInput):
            validation.clean_quantity(bad)
    assert DecimalString().run_validation("1.5") == "1.5"
