"""Webhooks in the admin: endpoints under Settings, deliveries and attempts under
Records, all for billing admins only (like API keys)."""

import pytest
from django.urls import reverse

from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK
from tests.backoffice.conftest import role_client
from tests.backoffice.test_admin_site import sections

pytestmark = pytest.mark.django_db
PAGES = ("webhookendpoint", "webhookdelivery", "webhookattempt")


def test_endpoints_are_settings_deliveries_are_records_for_billing_admins_only():
    admin = role_client(BILLING_ADMIN)
    found = dict(sections(admin.get(reverse("admin:index"))))
    assert "Webhook endpoints" in found["Settings"]
    assert {"Webhook deliveries", "Webhook attempts"} <= set(found["Records"])
    for page in PAGES:
        assert admin.get(reverse(f"admin:webhooks_{page}_changelist")).status_code == 200
    for role in (BILLING_CLERK, AUDITOR):
        client = role_client(role)
        index = client.get(reverse("admin:index")).content.decode()
        assert "Webhook" not in index
        for page in PAGES:
            assert client.get(reverse(f"admin:webhooks_{page}_changelist")).status_code == 403


def test_a_clerk_cannot_redeliver(receiver, endpoint, emit, account):
    from billing_site.webhooks.delivery import deliver_due
    from billing_site.webhooks.fanout import fan_out_all
    from billing_site.webhooks.models import WebhookDelivery

    endpoint()
    emit(account)
    fan_out_all()
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    clerk = role_client(BILLING_CLERK)
    url = reverse("admin:webhooks_webhookdelivery_redeliver", args=[delivery.pk])
    assert clerk.post(url).status_code == 403
    delivery.refresh_from_db()
    assert (delivery.status, delivery.round) == ("delivered", 1)


def test_unknown_ids_are_404_in_the_admin_look():
    admin = role_client(BILLING_ADMIN)
    for name in ("webhookdelivery_redeliver", "webhookendpoint_enable"):
        missing = admin.post(reverse(f"admin:webhooks_{name}", args=[10**9]))
        assert missing.status_code == 404 and "Not found" in missing.content.decode()
