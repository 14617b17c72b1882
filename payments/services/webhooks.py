"""Gateway webhooks: verified, then each event takes effect exactly once.

The event row (unique ``(gateway, event_id)``) is inserted in the same transaction as
its effect; a duplicate — even one delivered concurrently — waits on the unique index
or on the row's lock, finds it taken effect and changes nothing. An event that has not
taken effect yet — its payment not known yet (202), out of order (409: a chargeback
before the charge completed) or refused (422) — is stored and processed again when it
is delivered again, when the gateway call that names its payment is recorded, by
``manage.py retry_gateway_events`` and by *Retry* in the admin. What each event does
is ``webhook_handlers``.

A gateway whose secret is missing or well known (with DEBUG off) is trusted with
nothing: every event is refused (401) before anything is read or stored.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.errors import BillingError
from ledger.services import system_actor

from .. import gateways
from ..gateways import Event, WebhookRejected
from ..gateways.trust import secret_problem
from ..models import EventStatus, GatewayEvent, Payment
from .common import lock_payment
from .webhook_handlers import handle

HTTP = {
    EventStatus.PROCESSED: 200,
    EventStatus.STALE: 200,
    EventStatus.UNKNOWN_PAYMENT: 202,
    EventStatus.OUT_OF_ORDER: 409,
    EventStatus.FAILED: 422,
}
# Stored events that have not taken effect: processed again when they come back.
PENDING = (EventStatus.UNKNOWN_PAYMENT, EventStatus.OUT_OF_ORDER, EventStatus.FAILED)


def _untrusted(gateway) -> tuple[int, dict] | None:
    problem = None if settings.DEBUG else secret_problem(gateway.secret)
    if problem is None:
        return None
    detail = (
        f"Gateway {gateway.name!r} is not trusted: its webhook secret {problem} "
        "(manage.py check: payments.E001). No event is accepted until it is set."
    )
    return 401, {"error": "gateway_untrusted", "detail": detail, "field": None}


def receive(gateway_name: str, body: bytes, signature: str | None) -> tuple[int, dict]:
    """Verify and process one webhook; return (HTTP status, JSON body). Never raises
    for bad input: every refusal is an answer with its status."""
    gateway = gateways.by_name(gateway_name)
    if gateway is None:
        return 404, {"error": "not_found", "detail": "No such gateway.", "field": None}
    refused = _untrusted(gateway)
    if refused:
        return refused
    try:
        gateway.verify(body, signature)
        event = gateway.parse(body)
    except WebhookRejected as exc:
        return exc.status, {"error": exc.code, "detail": exc.detail, "field": None}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = GatewayEvent.objects.create(
                    gateway=gateway.name,
                    event_id=event.id,
                    type=event.type[:60],
                    payment_reference=event.payment_reference,
                    payload=event.data,
                    status=EventStatus.OUT_OF_ORDER,
                )
        except IntegrityError:
            record = GatewayEvent.objects.select_for_update(no_key=True).get(
                gateway=gateway.name, event_id=event.id
            )
            record.deliveries += 1
            record.save(update_fields=["deliveries"])
            if record.status not in PENDING:
                return 200, {"status": "duplicate", "event": event.id, "first": record.status}
        status, detail = _process(record, event)
    return HTTP[status], {"status": status, "event": event.id, "detail": detail}


def _process(record: GatewayEvent, event: Event) -> tuple[str, str]:
    """Apply a stored (locked) event to its payment and record the outcome."""
    payment_id = (
        Payment.objects.filter(gateway=record.gateway, gateway_reference=event.payment_reference)
        .values_list("pk", flat=True)
        .first()
    )
    if payment_id is None:
        status, detail = EventStatus.UNKNOWN_PAYMENT, "no payment has this reference"
    else:
        _account, payment = lock_payment(payment_id)
        record.payment = payment
        try:
            with transaction.atomic():
                status, detail = handle(event, payment, system_actor(f"gateway:{record.gateway}"))
        except BillingError as exc:
            status, detail = EventStatus.FAILED, exc.detail
    record.status, record.detail = status, detail[:255]
    record.processed_at = timezone.now()
    record.save(update_fields=["status", "detail", "processed_at", "payment"])
    return status, detail


def retry_event(event_id: int) -> GatewayEvent:
    """Process a stored event again (the command, the admin); one that has taken effect
    is left as it is."""
    with transaction.atomic():
        record = GatewayEvent.objects.select_for_update(no_key=True).get(pk=event_id)
        if record.status in PENDING:
            event = Event(record.event_id, record.type, record.payment_reference, record.payload)
            _process(record, event)
    return record


def retry_pending(*, limit: int = 500) -> list[GatewayEvent]:
    """Process again every stored event that has not taken effect, oldest first."""
    pending = GatewayEvent.objects.filter(status__in=PENDING).order_by("received_at", "id")
    return [retry_event(pk) for pk in pending.values_list("pk", flat=True)[:limit]]


def retry_events_for(gateway: str, reference: str) -> list[GatewayEvent]:
    """Events that arrived before their payment's reference was known, processed now
    that it is (oldest first)."""
    pending = GatewayEvent.objects.filter(
        gateway=gateway, payment_reference=reference, status__in=PENDING
    ).order_by("received_at", "id")
    return [retry_event(pk) for pk in pending.values_list("pk", flat=True)]
