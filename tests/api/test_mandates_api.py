"""Direct-debit mandates over the API, through the URL, on PostgreSQL with each request
committing: create (idempotent), list with the IBAN masked, force a direct debit under
the mandate with no IBAN sent (the sandbox bank confirms), revoke, refusals that change
nothing, and a restricted key that gets 404 for another account's mandates."""

import pytest
from django.core.management import call_command

from payments.models import GatewayCall, Mandate

from .conftest import Api
from .factories import invoice, waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

IBAN = "DE89 3704 0044 0532 0130 00"
BODY = {"reference": "MD-API-1", "signed_on": "2026-01-05", "iban": IBAN}


@pytest.fixture(autouse=True)
def verified_ledger(transactional_db):
    yield
    call_command("verify_ledger", verbosity=0)


def test_create_list_force_direct_debit_then_revoke(api, account):
    path = f"/api/v1/accounts/{account.pk}/mandates/"
    first = api.post(path, BODY, idem="md-1")
    assert first.status_code == 201, first.data
    assert {k: first.data[k] for k in ("account", "reference", "iban", "status")} == {
        "account": account.pk,
        "reference": "MD-API-1",
        "iban": "•••• 3000",
        "status": "active",
    }
    replay = api.post(path, BODY, idem="md-1")
    assert (replay.status_code, replay.data) == (201, first.data)
    assert Mandate.objects.count() == 1
    listed = api.get(path)
    assert listed.status_code == 200 and [m["id"] for m in listed.data["results"]] == [
        first.data["id"]
    ]
    assert "3704" not in listed.content.decode() and "3704" not in first.content.decode()

    inv = invoice(account, "75.00", issue=True)
    debit = api.post(f"/api/v1/invoices/{inv.pk}/force-direct-debit/", {}, idem="dd-m")
    assert (debit.status_code, debit.data["status"]) == (200, "processing"), debit.data
    call = GatewayCall.objects.get(payment_id=debit.data["id"])
    assert call.mandate_id == first.data["id"]
    call_command("deliver_sandbox_events", "--all")
    inv.refresh_from_db()
    assert inv.status == "paid"

    revoke = f"/api/v1/mandates/{first.data['id']}/revoke/"
    revoked = api.post(revoke, {"reason": "closed account"}, idem="rv-1")
    assert revoked.status_code == 200, revoked.data
    assert (revoked.data["status"], revoked.data["revoke_reason"]) == ("revoked", "closed account")
    assert revoked.data["revoked_at"] and revoked.data["revoked_by"] == "api:integration"
    again = api.post(revoke, {}, idem="rv-2")
    assert (again.status_code, again.data["error"]) == (409, "state_conflict")


def test_refusals_change_nothing(api, account):
    path = f"/api/v1/accounts/{account.pk}/mandates/"
    bad = api.post(path, {**BODY, "iban": "XX"})
    assert (bad.status_code, bad.data["field"]) == (422, "iban"), bad.data
    future = api.post(path, {**BODY, "signed_on": "2999-01-01"})
    assert (future.status_code, future.data["field"]) == (422, "signed_on")
    assert not Mandate.objects.exists()
    assert api.post(path, BODY).status_code == 201
    second = api.post(path, {**BODY, "reference": "MD-API-2"})
    assert (second.status_code, second.data["field"]) == (409, "account"), second.data
    assert Mandate.objects.count() == 1
    payment = waiting(invoice(account, "40.00", issue=True))
    both = api.post(
        f"/api/v1/payments/{payment.pk}/direct-debit/",
        {"iban": IBAN, "mandate": Mandate.objects.get().pk},
    )
    assert (both.status_code, both.data["field"]) == (422, "iban")
    assert not GatewayCall.objects.exists()


def test_without_a_mandate_or_an_iban_the_refusal_names_the_iban(api, account):
    payment = waiting(invoice(account, "40.00", issue=True))
    response = api.post(f"/api/v1/payments/{payment.pk}/direct-debit/", {})
    assert (response.status_code, response.data["field"]) == (422, "iban"), response.data
    assert "no active direct-debit mandate" in response.data["detail"]
    payment.refresh_from_db()
    assert payment.status == "waiting_for_payment" and not GatewayCall.objects.exists()


def test_a_restricted_key_gets_404_for_another_accounts_mandates(
    api, make_key, make_account, account
):
    other = make_account()
    theirs = api.post(f"/api/v1/accounts/{other.pk}/mandates/", BODY).data
    _key, raw = make_key("only mine", accounts=[account])
    mine = Api(raw)
    not_found = {"error": "not_found", "detail": "Not found.", "field": None}
    for method, path, body in [
        ("GET", f"/api/v1/accounts/{other.pk}/mandates/", None),
        ("POST", f"/api/v1/accounts/{other.pk}/mandates/", {**BODY, "reference": "X"}),
        ("GET", f"/api/v1/mandates/{theirs['id']}/", None),
        ("POST", f"/api/v1/mandates/{theirs['id']}/revoke/", {}),
    ]:
        response = mine.call(method, path, body)
        assert (response.status_code, response.data) == (404, not_found), path
    assert mine.get("/api/v1/mandates/").data["results"] == []
    payment = waiting(invoice(account, "40.00", issue=True))
    foreign = mine.post(f"/api/v1/payments/{payment.pk}/direct-debit/", {"mandate": theirs["id"]})
    assert (foreign.status_code, foreign.data["field"]) == (422, "mandate"), foreign.data
    assert Mandate.objects.get(pk=theirs["id"]).status == "active"
