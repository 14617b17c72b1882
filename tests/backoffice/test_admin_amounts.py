"""Every admin form that takes money refuses a malformed amount with a form error next
to the field, keeps what was typed, and changes nothing (issue 13: "1e5", " 1.00",
"+1.00", "1.", ".5", "1_000", other scripts' digits and 10^30 were accepted or 500)."""

import pytest
from django.urls import reverse

from ledger import services as ledger
from ledger.models import LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import WalletTransaction

pytestmark = pytest.mark.django_db

MALFORMED = ["1e5", " 1.00", "+1.00", "1.", ".5", "1_000", "1,000", "١٢٣", "１２３", "1" * 30]


@pytest.fixture
def world(account, actor):
    draft = ledger.create_invoice(account=account, actor=actor, lines=[LineSpec("A", "1", "75")])
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    waiting = Payment.objects.get(invoice=invoice, status="waiting_for_payment")
    credit = pay.record_payment(account=account, amount="20.00", method="cash", actor=actor)
    wallet = wallets.create_wallet(account=account, name="Main", actor=actor)
    wallets.top_up(wallet=wallet, amount="100.00", actor=actor, grant=True)
    return invoice, waiting, credit, wallet


def forms_that_take_money(world, account):
    invoice, waiting, credit, wallet = world
    act = "admin:{}_action"
    return [
        (reverse(act.format("ledger_invoice"), args=[invoice.pk, "mark_paid"]), {"method": "cash"}),
        (reverse(act.format("ledger_invoice"), args=[invoice.pk, "refund"]), {}),
        (
            reverse(act.format("ledger_invoice"), args=[invoice.pk, "apply_wallet"]),
            {"wallet": wallet.pk},
        ),
        (
            reverse(act.format("payments_payment"), args=[waiting.pk, "mark_paid"]),
            {"method": "cash"},
        ),
        (reverse(act.format("payments_payment"), args=[credit.pk, "refund"]), {}),
        (reverse(act.format("wallets_wallet"), args=[wallet.pk, "grant"]), {}),
        (reverse(act.format("wallets_wallet"), args=[wallet.pk, "top_up"]), {}),
        (reverse(act.format("wallets_wallet"), args=[wallet.pk, "transfer"]), {}),
        (
            reverse(act.format("wallets_wallet"), args=[wallet.pk, "apply"]),
            {"invoice": invoice.pk},
        ),
        (
            reverse("admin:payments_payment_record") + f"?account={account.pk}",
            {"method": "cash", "received_on": "2026-11-30"},
        ),
    ]


def state():
    return (
        LedgerEntry.objects.count(),
        WalletTransaction.objects.count(),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "amount")),
    )


@pytest.mark.parametrize("amount", MALFORMED)
def test_every_money_form_refuses_a_malformed_amount(admin_client, account, world, amount):
    for url, data in forms_that_take_money(world, account):
        before = state()
        response = admin_client.post(url, {**data, "amount": amount})
        assert response.status_code == 200, (url, amount, response.status_code)
        form = response.context["form"]
        assert "amount" in form.errors, (url, amount, form.errors)
        assert amount.strip() in response.content.decode() or amount == " 1.00", url
        assert state() == before, (url, amount)


@pytest.mark.parametrize(
    "field, value",
    [("quantity", q) for q in MALFORMED] + [("unit_price", p) for p in MALFORMED],
)
def test_the_invoice_line_form_refuses_malformed_numbers(admin_client, account, field, value):
    line = {"description": "Desk", "quantity": "1", "unit_price": "10.00", field: value}
    data = {
        "account": account.pk,
        "series": "INV",
        "description": "",
        "due_date": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **{f"lines-0-{k}": v for k, v in line.items()},
    }
    response = admin_client.post(reverse("admin:ledger_invoice_add"), data)
    assert response.status_code == 200, response.status_code
    errors = [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms]
    assert field in errors[0], errors
    assert not account.invoices.exists()
