"""The fan-out: pending outbox events (consumer ``"webhooks"``, ``SKIP LOCKED``) become
one ``WebhookDelivery`` per (event, enabled endpoint that wants it), in the transaction
that marks the events consumed."""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billing_site.api.permissions import restricted_accounts
from events.selectors import pending_events
from events.services import mark_consumed

from .models import WebhookDelivery, WebhookEndpoint

CONSUMER = "webhooks"


def restriction_annotation():
    """``restricted``: the endpoint has accounts or groups (read in the list's query)."""
    through = WebhookEndpoint.accounts.through, WebhookEndpoint.groups.through
    return Exists(through[0].objects.filter(webhookendpoint=OuterRef("pk"))) | Exists(
        through[1].objects.filter(webhookendpoint=OuterRef("pk"))
    )


def endpoints_with_restriction():
    """Enabled endpoints, each with ``restricted``."""
    return WebhookEndpoint.objects.filter(enabled=True).annotate(
        restricted=restriction_annotation()
    )


def allowed_accounts(endpoint, account_ids) -> set[int] | None:
    """Which of ``account_ids`` the endpoint may receive events of (None: all) — the
    API keys' rule (``billing_site.api.permissions.restricted_accounts``)."""
    if not endpoint.restricted:
        return None
    allowed = restricted_accounts(WebhookEndpoint, endpoint.pk).filter(pk__in=account_ids)
    return set(allowed.values_list("pk", flat=True))


def matching(events, endpoints) -> list[tuple]:
    account_ids = {event.account_id for event in events}
    allowed = {endpoint.pk: allowed_accounts(endpoint, account_ids) for endpoint in endpoints}
    return [
        (event, endpoint)
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.type)
        and (allowed[endpoint.pk] is None or event.account_id in allowed[endpoint.pk])
    ]


def fan_out(*, limit: int = 200, now=None) -> tuple[int, int]:
    """One batch: ``(events taken, deliveries created)``."""
    now = now or timezone.now()
    with transaction.atomic():
        batch = list(pending_events(consumer=CONSUMER, limit=limit, lock=True))
        if not batch:
            return 0, 0
        endpoints = list(endpoints_with_restriction())
        rows = [
            WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
            for event, endpoint in matching(batch, endpoints)
        ]
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        mark_consumed(consumer=CONSUMER, events=batch)
    return len(batch), len(rows)


def fan_out_all(*, limit: int = 200, batches: int = 50, now=None) -> int:
    """Batches until no pending event is left (or ``batches``); deliveries created."""
    total = 0
    for _ in range(batches):
        taken, made = fan_out(limit=limit, now=now)
        total += made
        if taken < limit:
            break
    return total
