"""One grammar for amounts and quantities written as text, on every API write that
takes money: ASCII digits, one optional point, the currency's places, at most 15
integer digits — anything else is a 422 naming the field, and nothing changes
(issue 13: "1e5" was recorded as 100,000.00; " 1.00", "+1.00", "1.", ".5", "1_000",
Arabic-Indic and full-width digits were accepted)."""

import pytest

from ledger.models import Invoice, LedgerEntry
from payments.models import Payment
from wallets.models import WalletTransaction

from .conftest import money
from .factories import invoice, side, waiting

pytestmark = pytest.mark.django_db

MALFORMED = [
    "1e5",
    "1E5",
    " 1.00",
    "1.00 ",
    "+1.00",
    "1.",
    ".5",
    "1_000",
    "1,000.00",
    "1 000",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "0x10",
    "NaN",
    "Infinity",
    "-",
    "",
    "1" * 16,  # 16 integer digits
    "1" * 30,  # 10^30
    "9" * 200,
    "1.2.3",
    "1..0",
    "--1",
    "1-",
]


def snapshot():
    return (
        LedgerEntry.objects.count(),
        WalletTransaction.objects.count(),
        Payment.objects.count(),
        list(Invoice.objects.order_by("pk").values_list("pk", "total", "status")),
    )


def writes(s):
    """(path, body builder) for every API write that takes an amount."""
    due = invoice(s.account, "50.00", issue=True)
    pending = waiting(due)
    return [
        (
            f"/api/v1/wallets/{s.wallet.pk}/drawdowns/",
            lambda a: {"amount": money(a), "reference": "r"},
        ),
        (f"/api/v1/wallets/{s.wallet.pk}/top-ups/", lambda a: {"amount": money(a), "grant": True}),
        (f"/api/v1/wallets/{s.wallet.pk}/transfer-to-credit/", lambda a: {"amount": money(a)}),
        (
            f"/api/v1/wallets/{s.wallet.pk}/apply/",
            lambda a: {"invoice": due.pk, "amount": money(a)},
        ),
        (f"/api/v1/invoices/{due.pk}/mark-paid/", lambda a: {"method": "cash", "amount": money(a)}),
        (
            f"/api/v1/payments/{pending.pk}/complete/",
            lambda a: {"method": "cash", "amount": money(a)},
        ),
        (
            "/api/v1/payments/",
            lambda a: {"account": s.account.pk, "method": "cash", "amount": money(a)},
        ),
        (
            "/api/v1/invoices/",
            lambda a: {
                "account": s.account.pk,
                "lines": [{"description": "x", "quantity": "1", "unit_price": money(a)}],
            },
        ),
    ]


@pytest.mark.parametrize("amount", MALFORMED)
def test_malformed_amounts_are_422_on_every_money_write(api, amount):
    s = side("Alpha")
    for path, body in writes(s):
        before = snapshot()
        answer = api.post(path, body(amount))
        assert answer.status_code == 422, (path, amount, answer.status_code, answer.data)
        assert (
            answer.data["field"]
            and "amount" in answer.data["field"]
            or "price" in (answer.data["field"] or "")
        ), (path, answer.data)
        assert snapshot() == before, (path, amount)


@pytest.mark.parametrize("quantity", [q for q in MALFORMED if q not in ("1" * 16,)] + ["1.00001"])
def test_malformed_quantities_are_422(api, quantity):
    s = side("Alpha")
    before = snapshot()
    answer = api.post(
        "/api/v1/invoices/",
        {
            "account": s.account.pk,
            "lines": [{"description": "x", "quantity": quantity, "unit_price": money("1.00")}],
        },
    )
    assert answer.status_code == 422, (quantity, answer.data)
    assert answer.data["field"] == "lines[0].quantity"
    assert snapshot() == before


@pytest.mark.parametrize("amount", ["1", "1.5", "1.50", "0.01", "123456789012345"])
def test_well_formed_amounts_are_taken(api, amount):
    s = side("Alpha")
    answer = api.post(
        f"/api/v1/wallets/{s.wallet.pk}/top-ups/", {"amount": money(amount), "grant": True}
    )
    assert answer.status_code == 201, answer.data
