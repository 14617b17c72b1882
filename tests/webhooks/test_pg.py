"""On PostgreSQL without a wrapping transaction, the way production runs: two workers
(real threads, their own connections) never send the same attempt; redelivery and
endpoint management from the admin through their URLs."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from billing_site.webhooks.delivery import deliver_due
from billing_site.webhooks.fanout import fan_out_all
from billing_site.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boss():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "b@x.test", "x"))
    return client


def test_two_workers_never_deliver_the_same_attempt_twice(receiver, endpoint, emit, make_account):
    endpoint()
    endpoint(url=receiver.url + "?second")
    accounts = [make_account() for _ in range(3)]
    sent = [emit(accounts[i % 3]) for i in range(20)]
    fan_out_all()
    assert WebhookDelivery.objects.count() == 40
    start, made, errors = threading.Barrier(2), [], []

    def worker():
        try:
            start.wait()
            made.append(deliver_due(limit=3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(made) == 40 and all(made), made  # both worked, 40 sends in all
    assert {receiver.per_event[str(e.id)] for e in sent} == {2}  # once per endpoint
    assert len(receiver.requests) == 40
    assert WebhookAttempt.objects.filter(succeeded=True).count() == 40
    assert not WebhookDelivery.objects.exclude(status="delivered").exists()


def test_redeliver_from_the_admin_through_its_url(boss, receiver, endpoint, emit, account):
    endpoint()
    endpoint(url=receiver.url + "?second")
    event = emit(account)
    fan_out_all()
    deliver_due()
    delivery = WebhookDelivery.objects.order_by("id").first()
    page = boss.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and "Redeliver" in page.content.decode()
    assert boss.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/redeliver/").status_code == 403
    done = boss.post(f"/admin/webhooks/webhookdelivery/{delivery.pk}/redeliver/", follow=True)
    assert "redelivery scheduled now" in done.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.round) == ("pending", 2)
    deliver_due()
    assert receiver.per_event[str(event.id)] == 3  # two endpoints, then one again
    assert delivery.attempts.filter(succeeded=True).count() == 2  # one per round
    event_page = boss.get(f"/admin/events/event/{event.id}/change/").content.decode()
    assert "Redeliver to every endpoint" in event_page  # the event's page
    boss.post(f"/admin/webhooks/webhookdelivery/event/{event.id}/redeliver/")
    assert set(WebhookDelivery.objects.values_list("status", "round")) == {
        ("pending", 3),
        ("pending", 2),
    }
    deliver_due()
    assert receiver.per_event[str(event.id)] == 5
    listed = boss.get("/admin/webhooks/webhookdelivery/", {"status__exact": "delivered"})
    assert listed.status_code == 200 and str(event.id) in listed.content.decode()
    attempts = boss.get("/admin/webhooks/webhookattempt/", {"succeeded__exact": "1"})
    assert attempts.status_code == 200


def test_manage_an_endpoint_in_the_admin(boss, receiver, account):
    added = boss.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "description": "ERP",
            "url": receiver.url,
            "event_types": ["invoice.paid", "payment.completed"],
            "accounts": [account.pk],
        },
        follow=True,
    )
    text = added.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in text and "shown only once" in text
    assert endpoint.event_types == ["invoice.paid", "payment.completed"]
    assert list(endpoint.accounts.all()) == [account]
    change = f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/"
    assert endpoint.secret not in boss.get(change).content.decode()
    refused = boss.post("/admin/webhooks/webhookendpoint/add/", {"url": "ftp://x"})
    assert refused.status_code == 200 and WebhookEndpoint.objects.count() == 1
    boss.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/disable/")
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "disabled by boss"
    boss.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/enable/")
    rotated = boss.post(
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/rotate-secret/", follow=True
    )
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.secret != old
    assert re.search(re.escape(endpoint.secret), rotated.content.decode())
    edited = boss.post(
        change, {"description": "ERP 2", "url": receiver.url, "all_events": "on"}, follow=True
    )
    assert edited.status_code == 200
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.all_events) == ("ERP 2", True)
    assert not endpoint.accounts.exists()
