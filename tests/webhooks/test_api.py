"""The webhook endpoints and deliveries over the API: CRUD with the secret shown once
(create and rotate-secret), never in a GET; enable/disable; idempotent writes; redeliver;
keys without the ``admin`` scope, keys restricted to accounts and member sessions are
refused."""

import pytest
from django.contrib.auth import get_user_model

from billing_site.api.models import ALL_SCOPES
from billing_site.webhooks.delivery import deliver_due
from billing_site.webhooks.fanout import fan_out_all
from billing_site.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhook-endpoints/"


def test_endpoint_crud_shows_the_secret_once(api, receiver, account):
    created = api.post(
        BASE,
        {"url": receiver.url, "event_types": ["invoice.paid"], "accounts": [account.pk]},
        idem="create-1",
    )
    assert created.status_code == 201, created.data
    secret = created.data["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created.data["accounts"] == [account.pk] and created.data["enabled"] is True
    pk = created.data["id"]
    assert WebhookEndpoint.objects.get(pk=pk).secret == secret
    replay = api.post(
        BASE,
        {"url": receiver.url, "event_types": ["invoice.paid"], "accounts": [account.pk]},
        idem="create-1",
    )
    assert replay["Idempotent-Replayed"] == "true" and WebhookEndpoint.objects.count() == 1
    shown = api.get(f"{BASE}{pk}/")
    assert shown.status_code == 200 and "secret" not in shown.data
    assert secret not in shown.content.decode()
    listed = api.get(BASE)
    assert [e["id"] for e in listed.data["results"]] == [pk]
    assert secret not in listed.content.decode()
    patched = api.patch(f"{BASE}{pk}/", {"all_events": True, "accounts": []})
    assert patched.status_code == 200, patched.data
    assert (patched.data["all_events"], patched.data["accounts"]) == (True, [])
    disabled = api.post(f"{BASE}{pk}/disable/", {"reason": "ERP maintenance"})
    assert (disabled.data["enabled"], disabled.data["disabled_reason"]) == (
        False,
        "ERP maintenance",
    )
    assert api.post(f"{BASE}{pk}/disable/").status_code == 409
    assert api.post(f"{BASE}{pk}/enable/").data["enabled"] is True
    rotated = api.post(f"{BASE}{pk}/rotate-secret/")
    assert rotated.data["secret"] != secret
    assert WebhookEndpoint.objects.get(pk=pk).secret == rotated.data["secret"]
    assert api.delete(f"{BASE}{pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_bad_input_is_refused_with_the_field(api):
    http = api.post(BASE, {"url": "http://erp.example.com/hooks", "all_events": True})
    assert (http.status_code, http.data["field"]) == (422, "url")
    assert "https" in http.data["detail"]
    unknown = api.post(BASE, {"url": "https://erp.example.com", "event_types": ["nope"]})
    assert unknown.status_code == 422 and unknown.data["field"].startswith("event_types")
    missing = api.post(BASE, {"url": "https://erp.example.com", "accounts": [10**9]})
    assert missing.status_code == 422 and missing.data["field"].startswith("accounts")
    assert not WebhookEndpoint.objects.exists()


def test_redeliver_over_the_api(api, receiver, account, emit):
    created = api.post(BASE, {"url": receiver.url, "all_events": True})
    event = emit(account)
    fan_out_all()
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    shown = api.get(f"/api/v1/webhook-deliveries/{delivery.pk}/")
    assert shown.data["status"] == "delivered" and len(shown.data["attempts"]) == 1
    assert shown.data["endpoint"] == created.data["id"]
    again = api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/", idem="redo-1")
    assert again.status_code == 200, again.data
    assert (again.data["status"], again.data["round"]) == ("pending", 2)
    deliver_due()
    assert receiver.per_event[str(event.id)] == 2
    listed = api.get("/api/v1/webhook-deliveries/", {"status": "delivered"})
    assert [d["id"] for d in listed.data["results"]] == [delivery.pk]


def test_restricted_clerk_and_member_callers_are_refused(make_key, account, client):
    _key, restricted = make_key("only one account", accounts=[account])
    _key, clerk = make_key("no admin scope", scopes=[s for s in ALL_SCOPES if s != "admin"])
    body = {"url": "https://erp.example.com/hooks", "all_events": True}
    for raw in (restricted, clerk):
        caller = Api(raw)
        for response in (caller.get(BASE), caller.post(BASE, body)):
            assert response.status_code == 403, response.data
        assert caller.get("/api/v1/webhook-deliveries/").status_code == 403
    user = get_user_model().objects.create_user("member", password="x")
    account.members.add(user)
    client.force_login(user)
    session = Api(None)
    session.client = client
    assert session.get(BASE).status_code == 403
    assert not WebhookEndpoint.objects.exists()
