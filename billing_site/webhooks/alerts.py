"""Telling staff an endpoint was disabled: an email to ``BILLFOLD_STAFF_ALERT_EMAIL``
(when set; sent after the disabling commits) — the admin's endpoint list shows the
badge and a message for every automatically disabled endpoint."""

import logging

from django.conf import settings
from django.core.mail import send_mail

from .models import WebhookEndpoint

log = logging.getLogger(__name__)


def staff_address() -> str:
    return (getattr(settings, "BILLFOLD_STAFF_ALERT_EMAIL", "") or "").strip()


def endpoint_disabled(endpoint_id: int) -> bool:
    """Email staff about the disabled endpoint; whether an email was sent."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    log.warning("webhook endpoint %s disabled: %s", endpoint.pk, endpoint.disabled_reason)
    to = staff_address()
    if not to:
        return False
    try:
        send_mail(
            subject=f"Billfold: webhook endpoint disabled ({endpoint.url})",
            message=(
                f"The webhook endpoint {endpoint} ({endpoint.url}) was disabled: "
                f"{endpoint.disabled_reason}\n\nIts pending deliveries wait. Fix the "
                "receiver, then enable the endpoint in the admin (Settings → Webhook "
                "endpoints) or with POST /api/v1/webhook-endpoints/{id}/enable/; "
                "redeliver failed deliveries from Records → Webhook deliveries."
            ),
            from_email=None,
            recipient_list=[to],
        )
    except OSError:
        log.exception("webhook endpoint %s: the staff alert email failed", endpoint.pk)
        return False
    return True
