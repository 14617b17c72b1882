"""Delivering: claim due deliveries (``FOR UPDATE SKIP LOCKED``, a lease in
``claimed_until``) in one short transaction, POST each outside any transaction, record
the attempt in another short one. Retries back off exponentially with jitter (1, 2, 4
... minutes, at most 6 h apart) until 24 h after the round's first attempt, then the
delivery fails. An endpoint with no success for 24 h is disabled and staff are told.

``now`` is a parameter everywhere (the tests' clock); the signature's timestamp is the
real time, which is what receivers compare against."""

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing_site.api.events import EventSerializer
from ledger.errors import StateConflict

from . import alerts, sender
from .endpoints import disable_endpoint
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
RETRY_WINDOW = timedelta(hours=24)  # of a round, from its first attempt
DISABLE_AFTER = timedelta(hours=24)  # an endpoint's failures with no success since
JITTER = 0.1  # each delay is multiplied by a random factor in [0.9, 1.1]


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    number: int
    round: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes
    claimed_at: datetime


def event_body(event) -> bytes:
    """``{id, type, created_at, account, seq, data}``: the API's event, ``payload`` as
    ``data``."""
    shown = dict(EventSerializer(event).data)
    body = {k: shown[k] for k in ("id", "type", "created_at", "account", "seq")}
    body["data"] = shown["payload"]
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def lease(batch: int = 1) -> timedelta:
    """How long a claim keeps other workers off: a batch is sent one after the other,
    each send bounded by its timeout twice (connect, then the answer), plus a margin."""
    return timedelta(seconds=batch * 2 * sender.timeout_seconds() + 60)


def backoff(number: int, *, rng=random) -> timedelta:
    """The wait after failed attempt ``number`` (1, 2, ...): 1 min doubled each time,
    at most 6 h, times a jitter factor."""
    delay = min(FIRST_DELAY * 2 ** min(number - 1, 20), MAX_DELAY)
    return delay * rng.uniform(1 - JITTER, 1 + JITTER)


def claim_due(*, now: datetime | None = None, limit: int = 10) -> list[Claim]:
    """Take up to ``limit`` due deliveries of enabled endpoints: each gets its next
    attempt number and a lease, and the transaction commits before anything is sent."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(endpoint__enabled=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .order_by("next_attempt_at", "id")[:limit]
        )
        for row in rows:
            row.attempts_count += 1
            row.claimed_until = now + lease(len(rows))
            row.first_attempt_at = row.first_attempt_at or now
        WebhookDelivery.objects.bulk_update(
            rows, ["attempts_count", "claimed_until", "first_attempt_at"]
        )
    return [
        Claim(
            delivery_id=row.pk,
            number=row.attempts_count,
            round=row.round,
            url=row.endpoint.url,
            secret=row.endpoint.secret,
            event_id=str(row.event_id),
            event_type=row.event.type,
            body=event_body(row.event),
            claimed_at=now,
        )
        for row in rows
    ]


def send(claim: Claim) -> sender.Outcome:
    headers = {
        "Billfold-Event-Id": claim.event_id,
        "Billfold-Event-Type": claim.event_type,
        "Billfold-Delivery": f"{claim.delivery_id}.{claim.number}",
    }
    return sender.post(claim.url, claim.body, secret=claim.secret, headers=headers)


def _schedule_retry(delivery: WebhookDelivery, now: datetime, rng) -> None:
    end = delivery.first_attempt_at + RETRY_WINDOW
    if now >= end:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = min(now + backoff(delivery.attempts_count, rng=rng), end)


def record(claim: Claim, outcome: sender.Outcome, *, now=None, rng=random) -> WebhookAttempt:
    """Log the attempt and move the delivery on: delivered on a 2xx (once per round),
    otherwise the next try or ``failed``; the endpoint's failure clock with it."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(no_key=True).get(pk=claim.delivery_id)
        current = (
            delivery.status == DeliveryStatus.PENDING
            and delivery.attempts_count == claim.number
            and delivery.round == claim.round
        )
        succeeded = outcome.succeeded and current
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=claim.number,
            round=claim.round,
            started_at=claim.claimed_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error if current else "superseded: the lease had expired",
            response_excerpt=outcome.excerpt,
            succeeded=succeeded,
        )
        if current:
            delivery.claimed_until = None
            if succeeded:
                delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
                delivery.next_attempt_at = None
            else:
                _schedule_retry(delivery, now, rng)
            delivery.save()
        _endpoint_outcome(delivery.endpoint_id, succeeded, now)
    return attempt


def _endpoint_outcome(endpoint_id: int, succeeded: bool, now: datetime) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint_id)
    if succeeded:
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    elif endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
        since = endpoint.failing_since
        reason = f"Every delivery failed for 24 hours (since {since:%Y-%m-%d %H:%M} UTC)."
        disable_endpoint(endpoint, reason=reason, now=now, auto=True)
        transaction.on_commit(lambda: alerts.endpoint_disabled(endpoint_id))


def deliver_due(*, now=None, limit: int = 10, rounds: int = 100, clock=None) -> int:
    """Claim, send, record until nothing is due (or ``rounds`` batches); the number of
    attempts made. ``clock()`` gives ``now`` for each step (tests); default: real time."""
    clock = clock or (lambda: now or timezone.now())
    made = 0
    for _ in range(rounds):
        claims = claim_due(now=clock(), limit=limit)
        if not claims:
            break
        for claim in claims:
            record(claim, send(claim), now=clock())
            made += 1
    return made


def redeliver(delivery, *, now=None) -> WebhookDelivery:
    """Send it again now: a pending delivery's next attempt is brought forward; a
    delivered or failed one starts a new round (24 h of retries from its first try).
    409 while a worker holds it (a send in flight)."""
    now = now or timezone.now()
    pk = delivery.pk if isinstance(delivery, WebhookDelivery) else int(delivery)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(no_key=True).get(pk=pk)
        if delivery.claimed_until is not None and delivery.claimed_until > now:
            raise StateConflict(
                f"Webhook delivery {pk} is being sent right now; try again in a minute."
            )
        if delivery.status != DeliveryStatus.PENDING:
            delivery.round += 1
            delivery.first_attempt_at = None
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now
        delivery.delivered_at, delivery.claimed_until = None, None
        delivery.save()
        return delivery
