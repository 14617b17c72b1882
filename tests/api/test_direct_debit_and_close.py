"""Force a direct debit on an invoice, collect a waiting payment by direct debit, close a
wallet — over the API, through the URL, on PostgreSQL with each request committing
(OPERATIONS rows 24 and 35): success, an idempotent replay, refusals that change
nothing, and an account-restricted key that gets 404 for another account."""

import pytest
from django.core.management import call_command

from payments.models import GatewayCall, Payment, PaymentTransition, SandboxEvent
from wallets import services as wallet_services
from wallets.models import Wallet

from .conftest import Api
from .factories import ACTOR, invoice, waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture(autouse=True)
def verified_ledger(transactional_db):
    yield
    call_command("verify_ledger", verbosity=0)


def snapshot():
    """Everything a refused direct debit or close could have changed."""
    return (
        list(Payment.objects.order_by("pk").values_list("pk", "status", "method", "gateway")),
        PaymentTransition.objects.count(),
        GatewayCall.objects.count(),
        SandboxEvent.objects.count(),
        list(Wallet.objects.order_by("pk").values_list("pk", "status", "closed_at")),
    )


def test_force_direct_debit_then_the_bank_confirms(api, account):
    inv = invoice(account, "75.00", issue=True)
    payment = waiting(inv)
    path = f"/api/v1/invoices/{inv.pk}/force-direct-debit/"
    first = api.post(path, {"iban": IBAN}, idem="dd-1")
    assert first.status_code == 200, first.data
    assert (first.data["id"], first.data["status"], first.data["method"]) == (
        payment.pk,
        "processing",
        "direct_debit",
    )
    [call] = GatewayCall.objects.filter(payment=payment)
    assert (call.kind, call.status, call.request) == (
        "direct_debit",
        "accepted",
        {"iban": "DE89…3000"},
    )
    replay = api.post(path, {"iban": IBAN}, idem="dd-1")
    assert (replay.status_code, replay.data) == (200, first.data)
    assert replay["Idempotent-Replayed"] == "true"
    assert GatewayCall.objects.filter(payment=payment).count() == 1
    call_command("deliver_sandbox_events", "--all")
    inv.refresh_from_db()
    assert inv.status == "paid"
    assert Payment.objects.get(pk=payment.pk).status == "completed"


@pytest.mark.parametrize("state", ["paid", "cancelled", "draft"])
def test_force_direct_debit_on_an_invoice_with_nothing_waiting_is_409(api, account, state):
    from payments import services as pay

    if state == "draft":
        inv = invoice(account, "75.00")
    else:
        inv = invoice(account, "75.00", issue=True)
        if state == "paid":
            pay.mark_invoice_paid(invoice=inv, method="cash", actor=ACTOR)
        else:
            pay.cancel_invoice(invoice=inv, actor=ACTOR, reason="mistake")
    before = snapshot()
    response = api.post(
        f"/api/v1/invoices/{inv.pk}/force-direct-debit/", {"iban": IBAN}, idem=f"r-{state}"
    )
    assert response.status_code == 409, response.data
    assert response.data["field"] == "invoice"
    assert "has no payment waiting" in response.data["detail"]
    assert snapshot() == before


def test_a_bad_iban_is_422_naming_the_field(api, account):
    inv = invoice(account, "75.00", issue=True)
    before = snapshot()
    response = api.post(f"/api/v1/invoices/{inv.pk}/force-direct-debit/", {"iban": "12"})
    assert (response.status_code, response.data["field"]) == (422, "iban"), response.data
    assert snapshot() == before


def test_collect_a_waiting_payment_by_direct_debit(api, account):
    payment = waiting(invoice(account, "40.00", issue=True))
    path = f"/api/v1/payments/{payment.pk}/direct-debit/"
    first = api.post(path, {"iban": IBAN}, idem="collect-1")
    assert first.status_code == 200, first.data
    assert (first.data["status"], first.data["method"]) == ("processing", "direct_debit")
    replay = api.post(path, {"iban": IBAN}, idem="collect-1")
    assert (replay.status_code, replay.data) == (200, first.data)
    assert GatewayCall.objects.filter(payment=payment).count() == 1
    before = snapshot()
    again = api.post(path, {"iban": IBAN}, idem="collect-2")  # now processing: refused
    assert again.status_code == 409, again.data
    assert snapshot() == before


def test_close_an_empty_wallet_and_replay(api, account):
    wallet = wallet_services.create_wallet(account=account, name="Spare", actor=ACTOR)
    path = f"/api/v1/wallets/{wallet.pk}/close/"
    first = api.post(path, None, idem="close-1")
    assert first.status_code == 200, first.data
    assert first.data["status"] == "closed" and first.data["closed_at"]
    replay = api.post(path, None, idem="close-1")
    assert (replay.status_code, replay.data) == (200, first.data)
    again = api.post(path, None, idem="close-2")
    assert again.status_code == 409, again.data


@pytest.mark.parametrize("what", ["available", "held"])
def test_a_wallet_with_money_available_or_held_is_not_closed(api, account, what):
    from payments import services as pay

    wallet = wallet_services.create_wallet(account=account, name="Main", actor=ACTOR)
    wallet_services.top_up(wallet=wallet, amount="30.00", actor=ACTOR, grant=True)
    if what == "held":
        ongoing = invoice(account, "30.00", ongoing=True)
        pay.apply_wallet(wallet=wallet, invoice=ongoing, actor=ACTOR)
    before = snapshot()
    response = api.post(f"/api/v1/wallets/{wallet.pk}/close/", None, idem=f"c-{what}")
    assert response.status_code == 409, response.data
    assert (response.data["error"], response.data["field"]) == ("state_conflict", "wallet")
    assert "£30.00" in response.data["detail"]
    assert snapshot() == before


def test_a_restricted_key_gets_404_for_another_account(make_key, make_account, account):
    other = make_account()
    _key, raw = make_key("only mine", accounts=[account])
    mine = Api(raw)
    inv = invoice(other, "75.00", issue=True)
    wallet = wallet_services.create_wallet(account=other, name="Theirs", actor=ACTOR)
    before = snapshot()
    for path, body in [
        (f"/api/v1/invoices/{inv.pk}/force-direct-debit/", {"iban": IBAN}),
        (f"/api/v1/payments/{waiting(inv).pk}/direct-debit/", {"iban": IBAN}),
        (f"/api/v1/wallets/{wallet.pk}/close/", None),
    ]:
        response = mine.post(path, body)
        assert response.status_code == 404, (path, response.data)
        assert response.data == {"error": "not_found", "detail": "Not found.", "field": None}
    assert snapshot() == before
