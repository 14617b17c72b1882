"""The wallet page (issue 11): its figures first (also on every action's form), the
top-up payments with their state, and the actions — top up, grant, apply to a chosen
invoice (a hold on an ongoing one), record usage, release a hold, transfer to account
credit, close."""

from decimal import Decimal

import pytest
from django.urls import reverse

from payments import services as pay
from payments.models import Payment
from tests.composition.admin_pages import buttons, run_action
from tests.payments.conftest import fresh

from .conftest import section, text_of, words

D = Decimal
pytestmark = pytest.mark.django_db


def figures(wallet):
    w = fresh(wallet)
    return (w.total.amount, w.consumed.amount, w.held.amount, w.available.amount)


def test_top_up_shows_its_waiting_payment_and_its_state(admin, account, make_wallet, actor):
    wallet = make_wallet(account, "Prepaid", None)
    run_action(admin, "wallets_wallet", wallet, "top_up", {"amount": "60.00", "method": ""})
    top_up = Payment.objects.get(wallet=wallet)
    page = admin.get(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
    table = words(section(page, "wallet-top-ups"))
    assert f"{top_up.number}" in table and "Waiting for payment" in table
    assert "credited to the wallet when it is marked as paid" in table
    pay.mark_payment_paid(payment=top_up, method="bank_transfer", actor=actor)
    page = admin.get(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
    assert "Completed" in words(section(page, "wallet-top-ups"))
    assert figures(wallet) == (D("60.00"), 0, 0, D("60.00"))


def test_every_action_form_shows_the_wallet_figures(admin, account, make_wallet):
    wallet = make_wallet(account, "Prepaid", "50.00")
    for action in ("top_up", "grant", "apply", "usage", "transfer"):
        page = admin.get(reverse("admin:wallets_wallet_action", args=[wallet.pk, action]))
        assert page.status_code == 200, action
        text = text_of(page)
        assert "Available £50.00" in text and "Held £0.00" in text, action


def check_usage_hold_and_release(admin, account, make_wallet, ongoing):
    wallet = make_wallet(account, "Prepaid", "50.00")
    data = {"amount": "12.50", "reference": "meter-42", "description": "Printing"}
    done = run_action(admin, "wallets_wallet", wallet, "usage", data)
    assert done.text() == ["Usage drawn from wallet 'Prepaid'."]
    assert figures(wallet) == (D("50.00"), D("12.50"), 0, D("37.50"))
    invoice = ongoing(account, "30")
    run_action(admin, "wallets_wallet", wallet, "apply", {"invoice": invoice.pk, "amount": ""})
    assert figures(wallet) == (D("50.00"), D("12.50"), D("30.00"), D("7.50"))
    assert "release_hold" in buttons(admin, "wallets_wallet", wallet)
    hold = fresh(invoice).holds.get(status="active")
    done = run_action(admin, "wallets_wallet", wallet, "release_hold", {"hold": hold.pk})
    assert figures(wallet) == (D("50.00"), D("12.50"), 0, D("37.50"))
    assert fresh(hold).status == "released"
    refused = admin.post(
        reverse("admin:wallets_wallet_action", args=[wallet.pk, "usage"]),
        {"amount": "100.00", "reference": "meter-43"},
    )
    assert refused.status_code == 200 and "only £37.50 is available" in text_of(refused)
    assert 'value="meter-43"' in refused.content.decode()  # kept


def test_usage_hold_and_release(admin, account, make_wallet, ongoing):
    check_usage_hold_and_release(admin, account, make_wallet, ongoing)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_usage_hold_and_release_on_postgresql(admin, account, make_wallet, ongoing):
    check_usage_hold_and_release(admin, account, make_wallet, ongoing)


def test_apply_lists_invoices_with_what_is_due(admin, account, make_wallet, issue, ongoing):
    wallet = make_wallet(account, "Prepaid", "50.00")
    due = issue(account, "75.00")
    open_ = ongoing(account, "20")
    page = admin.get(reverse("admin:wallets_wallet_action", args=[wallet.pk, "apply"]))
    text = text_of(page)
    assert f"{due.number} — £75.00 due" in text
    assert f"{open_} — ongoing, £20.00 so far (a hold follows it)" in text
