"""Wallet alerts and automatic top-ups over the API (issue 14 item 5), through the URL
on PostgreSQL with each request committing: set and clear the low-balance threshold
(POST /wallets/{id}/low-balance-alert/), the event on a crossing drawdown, set / read /
clear the automatic top-up rule (PUT/GET/DELETE /wallets/{id}/auto-top-up/), which then
opens a top-up collected under the account's mandate; refusals change nothing; an
account-restricted key gets 404 for another account's wallet."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.models import Event
from ledger import services as ledger
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import AutoTopUp, Wallet

from .conftest import Api, money

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = ledger.system_actor("api-tests")


@pytest.fixture(autouse=True)
def verified_ledger(transactional_db):
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def wallet(account):
    w = wallets.create_wallet(account=account, name="Metered", actor=ACTOR)
    wallets.top_up(wallet=w, amount="1000.00", actor=ACTOR, grant=True)
    return w


def test_set_threshold_then_a_drawdown_alerts_once(api, wallet):
    path = f"/api/v1/wallets/{wallet.pk}/low-balance-alert/"
    done = api.post(path, {"threshold": money("500.00"), "email": True}, idem="al-1")
    assert done.status_code == 200, done.data
    assert done.data["low_balance_threshold"] == money("500.00")
    assert done.data["low_balance_email"] is True
    replay = api.post(path, {"threshold": money("500.00"), "email": True}, idem="al-1")
    assert (replay.status_code, replay.data) == (200, done.data)
    for n, amount in enumerate(("600.00", "100.00")):
        drawn = api.post(
            f"/api/v1/wallets/{wallet.pk}/drawdowns/",
            {"amount": money(amount), "reference": f"use-{n}"},
        )
        assert drawn.status_code == 201, drawn.data
    [event] = Event.objects.filter(type="wallet.low_balance")
    assert event.payload["wallet"] == api.get(f"/api/v1/wallets/{wallet.pk}/").data | {
        "available": money("400.00"),
        "consumed": money("600.00"),
    }
    cleared = api.post(path, {"threshold": None})
    assert cleared.status_code == 200 and cleared.data["low_balance_threshold"] is None


def test_bad_threshold_is_422_and_changes_nothing(api, wallet):
    path = f"/api/v1/wallets/{wallet.pk}/low-balance-alert/"
    bad = api.post(path, {"threshold": money("-5.00")})
    assert (bad.status_code, bad.data["field"]) == (422, "threshold"), bad.data
    other = api.post(path, {"threshold": money("5.00", "EUR")})
    assert other.status_code == 422, other.data
    assert Wallet.objects.get(pk=wallet.pk).low_balance_threshold is None


def test_auto_top_up_rule_set_read_clear_and_collected_by_mandate(api, account, wallet):
    pay.create_mandate(
        account=account, reference="MD-API-AUTO", signed_on=timezone.localdate(),
        iban="DE89 3704 0044 0532 0130 00", actor=ACTOR,
    )  # fmt: skip
    path = f"/api/v1/wallets/{wallet.pk}/auto-top-up/"
    assert api.get(path).data == {"wallet": wallet.pk, "rule": None}
    refused = api.put(path, {"trigger": "below_threshold", "amount": money("300.00")})
    assert (refused.status_code, refused.data["field"]) == (422, "trigger"), refused.data
    assert not AutoTopUp.objects.exists()
    api.post(f"/api/v1/wallets/{wallet.pk}/low-balance-alert/", {"threshold": money("500.00")})
    done = api.put(path, {"trigger": "below_threshold", "target": money("900.00")}, idem="rule-1")
    assert done.status_code == 200, done.data
    assert done.data["rule"] | {"last_triggered_at": None} == {
        "trigger": "below_threshold",
        "day_of_month": None,
        "amount": None,
        "target": money("900.00"),
        "enabled": True,
        "last_triggered_at": None,
        "last_period": "",
    }
    drawn = api.post(
        f"/api/v1/wallets/{wallet.pk}/drawdowns/",
        {"amount": money("700.00"), "reference": "big-use"},
    )
    assert drawn.status_code == 201
    [payment] = Payment.objects.filter(wallet=wallet, type="top_up")
    assert (payment.status, payment.amount.amount) == ("processing", 600)
    call_command("deliver_sandbox_events", "--all")
    assert Payment.objects.get(pk=payment.pk).status == "completed"
    assert api.get(f"/api/v1/wallets/{wallet.pk}/").data["available"] == money("900.00")
    cleared = api.delete(path)
    assert cleared.status_code == 200 and cleared.data["rule"] is None


def test_monthly_rule_over_the_api(api, wallet):
    path = f"/api/v1/wallets/{wallet.pk}/auto-top-up/"
    done = api.put(path, {"trigger": "monthly", "day_of_month": 3, "amount": money("50.00")})
    assert done.status_code == 200, done.data
    assert (done.data["rule"]["trigger"], done.data["rule"]["day_of_month"]) == ("monthly", 3)
    bad = api.put(path, {"trigger": "monthly", "day_of_month": 30, "amount": money("50.00")})
    assert (bad.status_code, bad.data["field"]) == (422, "day_of_month")
    assert AutoTopUp.objects.get(wallet=wallet).day_of_month == 3


def test_restricted_key_gets_404_for_another_accounts_wallet(make_key, make_account, wallet):
    other = make_account()
    _key, raw = make_key("only other", accounts=[other])
    api = Api(raw)
    for method, path, body in (
        ("POST", "low-balance-alert/", {"threshold": money("1.00")}),
        ("PUT", "auto-top-up/", {"trigger": "monthly", "day_of_month": 1, "amount": money("1.00")}),
        ("GET", "auto-top-up/", None),
    ):
        response = api.call(method, f"/api/v1/wallets/{wallet.pk}/{path}", body)
        assert response.status_code == 404, response.data
    assert Wallet.objects.get(pk=wallet.pk).low_balance_threshold is None
    assert not AutoTopUp.objects.exists()
