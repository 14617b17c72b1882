"""Gateway webhooks: verified, then each event takes effect exactly once.

The event row (unique ``(gateway, event_id)``) is inserted in the same transaction as
its effect; a duplicate — even one delivered concurrently — waits on the unique index,
finds the committed row and changes nothing. Events that arrive before what they
depend on (a chargeback before the charge completed) are stored as out-of-order and
answered 409 so the gateway retries them; a retry is processed again.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.errors import BillingError
from ledger.services import system_actor

from .. import gateways
from ..gateways import WebhookRejected
from ..models import EventStatus, GatewayEvent, Payment, PaymentStatus
from .common import lock_payment
from .completion import complete_gateway_payment
from .gateway_flows import mark_links_paid
from .reversals import record_dispute
from .transitions import apply

S = PaymentStatus
HTTP = {
    EventStatus.PROCESSED: 200,
    EventStatus.STALE: 200,
    EventStatus.UNKNOWN_PAYMENT: 202,
    EventStatus.OUT_OF_ORDER: 409,
    EventStatus.FAILED: 422,
}


def _handle(event, payment: Payment, actor) -> tuple[str, str]:
    """Apply one event to its (locked) payment; return (status, detail)."""
    kind, state = event.type, payment.status
    reason = str(event.data.get("reason") or "")[:255]
    if kind == "payment.processing":
        if state == S.WAITING_FOR_PAYMENT:
            apply(payment, "start_processing", actor=actor, reason=event.id)
            return EventStatus.PROCESSED, "processing"
        if state == S.PROCESSING:
            return EventStatus.PROCESSED, "already processing"
        return EventStatus.STALE, f"payment is already {state}"
    if kind == "payment.succeeded":
        if state == S.WAITING_FOR_PAYMENT:  # the confirmation overtook the processing notice
            apply(payment, "start_processing", actor=actor, reason=event.id)
            state = S.PROCESSING
        if state == S.PROCESSING:
            complete_gateway_payment(payment=payment.pk, actor=actor)
            mark_links_paid(payment)
            return EventStatus.PROCESSED, "completed"
        if state == S.COMPLETED:
            return EventStatus.STALE, "already completed"
        return EventStatus.FAILED, f"payment is {state}"
    if kind == "payment.failed":
        if state == S.PROCESSING:
            payment.decline_reason = reason or "declined"
            apply(
                payment,
                "fail_processing",
                actor=actor,
                reason=reason,
                extra_fields=["decline_reason"],
            )
            return EventStatus.PROCESSED, f"declined: {payment.decline_reason}"
        return EventStatus.STALE, f"payment is {state}"
    if kind in ("payment.disputed", "payment.returned"):
        if state == S.COMPLETED:
            what = "SEPA return" if kind == "payment.returned" else "chargeback"
            record_dispute(payment=payment.pk, actor=actor, reason=f"{what}: {reason}".strip())
            return EventStatus.PROCESSED, what
        if state in (S.WAITING_FOR_PAYMENT, S.PROCESSING):
            return EventStatus.OUT_OF_ORDER, "the charge has not completed yet"
        return EventStatus.FAILED, f"payment is {state}"
    if kind == "refund.succeeded":
        if state == S.PROCESSING and payment.direction == "outgoing":
            apply(payment, "complete_from_gateway", actor=actor, reason=event.id)
            return EventStatus.PROCESSED, "refund completed"
        if state == S.COMPLETED:
            return EventStatus.STALE, "refund already completed"
        return EventStatus.OUT_OF_ORDER, f"refund is {state}"
    return EventStatus.FAILED, f"unknown event type {kind!r}"


def receive(gateway_name: str, body: bytes, signature: str | None) -> tuple[int, dict]:
    """Verify and process one webhook; return (HTTP status, JSON body). Never raises
    for bad input: every refusal is an answer with its status."""
    gateway = gateways.by_name(gateway_name)
    if gateway is None:
        return 404, {"error": "not_found", "detail": "No such gateway.", "field": None}
    try:
        gateway.verify(body, signature)
        event = gateway.parse(body)
    except WebhookRejected as exc:
        return exc.status, {"error": exc.code, "detail": exc.detail, "field": None}
    actor = system_actor(f"gateway:{gateway.name}")
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
            if record.status != EventStatus.OUT_OF_ORDER:
                return 200, {"status": "duplicate", "event": event.id, "first": record.status}
        payment_id = (
            Payment.objects.filter(gateway=gateway.name, gateway_reference=event.payment_reference)
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
                    status, detail = _handle(event, payment, actor)
            except BillingError as exc:
                status, detail = EventStatus.FAILED, exc.detail
        record.status, record.detail = status, detail[:255]
        record.processed_at = timezone.now()
        record.save(update_fields=["status", "detail", "processed_at", "payment"])
    return HTTP[status], {"status": status, "event": event.id, "detail": detail}
