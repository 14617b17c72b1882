"""Outbound gateway calls, never under a lock (docs/DESIGN.md pitfalls).

The use case that decides a call (start a card payment or a direct debit, refund)
records its intent in its own transaction — a ``GatewayCall`` row, ``pending`` — and
asks for it to be sent once that transaction has committed. ``send`` claims the row,
talks to the gateway holding no lock and no transaction, then records the outcome in
a short transaction of its own: ``accepted`` with the gateway's reference (and any
webhook that overtook it is processed now), or ``failed`` with the error, the payment
back where it is not stuck (a payment waits again with the reason; a refund's money is
owed to the member again, ``gateway_refunds.fail_refund``).

Secrets the gateway needs once (a card number, an IBAN) are handed to the after-commit
callback in memory and never stored; ``request`` keeps what may be shown.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ledger.services import system_actor

from .. import gateways
from ..models import CallKind, CallStatus, GatewayCall, Payment, PaymentStatus
from .common import lock_payment
from .transitions import apply

log = logging.getLogger(__name__)
S = PaymentStatus


def record_intent(payment: Payment, kind: str, gateway: str, request: dict) -> GatewayCall:
    """The call the caller's transaction decided, to be sent after it commits."""
    return GatewayCall.objects.create(gateway=gateway, kind=kind, payment=payment, request=request)


def send_after_commit(call: GatewayCall, **secrets) -> None:
    """Send ``call`` once the current transaction commits (at once without one)."""
    transaction.on_commit(lambda: send(call.pk, **secrets))


def _dispatch(gateway, call: GatewayCall, secrets: dict):
    payment = call.payment
    if call.kind == CallKind.CARD_PAYMENT:
        return gateway.start_card_payment(payment, card_number=secrets["card_number"])
    if call.kind == CallKind.DIRECT_DEBIT and call.mandate_id:
        return gateway.start_mandate_debit(payment, mandate=call.mandate.gateway_mandate)
    if call.kind == CallKind.DIRECT_DEBIT:
        return gateway.start_direct_debit(payment, iban=secrets["iban"])
    return gateway.refund(payment, original=payment.refund_of)


def send(call_id: int, **secrets) -> GatewayCall:
    """Make one recorded call (outside any lock) and record how it went.

    Claimed with a conditional UPDATE, so a call is sent at most once."""
    claimed = GatewayCall.objects.filter(pk=call_id, status=CallStatus.PENDING).update(
        status=CallStatus.SENDING, attempts=F("attempts") + 1, started_at=timezone.now()
    )
    call = GatewayCall.objects.select_related("payment", "payment__refund_of", "mandate").get(
        pk=call_id
    )
    if not claimed:
        return call
    gateway = gateways.by_name(call.gateway)
    try:
        if gateway is None:
            raise LookupError(f"gateway {call.gateway!r} is not configured")
        started = _dispatch(gateway, call, secrets)
    except Exception as exc:  # any failure of the call: recorded, the payment not stuck
        log.warning("gateway call %s (%s) failed: %s", call.pk, call.kind, exc)
        _failed(call.pk, f"{type(exc).__name__}: {exc}")
    else:
        _accepted(call.pk, started.reference)
    call.refresh_from_db()
    return call


def _accepted(call_id: int, reference: str) -> None:
    """The gateway took the call: the payment (or refund) carries its reference; events
    that arrived before the reference was known are processed now."""
    with transaction.atomic():
        call = GatewayCall.objects.select_for_update(no_key=True).get(pk=call_id)
        _account, payment = lock_payment(call.payment_id)
        payment.gateway, payment.gateway_reference = call.gateway, reference
        payment.save(update_fields=["gateway", "gateway_reference"])
        call.status, call.reference, call.error = CallStatus.ACCEPTED, reference[:100], ""
        call.finished_at = timezone.now()
        call.save(update_fields=["status", "reference", "error", "finished_at"])
    from .webhooks import retry_events_for

    retry_events_for(call.gateway, reference)


def _failed(call_id: int, error: str) -> None:
    """The call failed (refused, unreachable, timed out): recorded on the call, and the
    payment it was for goes back to where someone can act on it."""
    with transaction.atomic():
        call = GatewayCall.objects.select_for_update(no_key=True).get(pk=call_id)
        _account, payment = lock_payment(call.payment_id)
        call.status, call.error = CallStatus.FAILED, error[:500]
        call.finished_at = timezone.now()
        call.save(update_fields=["status", "error", "finished_at"])
        if payment.status != S.PROCESSING or payment.gateway_reference:
            return
        actor = system_actor(f"gateway:{call.gateway}")
        reason = f"gateway call failed: {error}"[:255]
        if call.kind == CallKind.REFUND:
            from .gateway_refunds import fail_refund

            fail_refund(payment, reason=reason, actor=actor)
        else:
            payment.decline_reason = reason
            apply(
                payment,
                "fail_processing",
                actor=actor,
                reason=reason,
                extra_fields=["decline_reason"],
            )


def recover_unsent(*, older_than: timedelta = timedelta(minutes=10)) -> list[GatewayCall]:
    """Calls still ``pending`` long after they were recorded: the process stopped between
    the commit and the call. A refund, or a direct debit under a stored mandate, is sent
    now (it needs nothing secret); a payment start with a card number or a typed IBAN
    cannot be (it was never stored): it fails, and its payment waits again."""
    cutoff = timezone.now() - older_than
    stale = GatewayCall.objects.filter(status=CallStatus.PENDING, created_at__lt=cutoff)
    done = []
    for call in stale.order_by("created_at", "id"):
        if call.kind == CallKind.REFUND or call.mandate_id:
            done.append(send(call.pk))
            continue
        claimed = GatewayCall.objects.filter(pk=call.pk, status=CallStatus.PENDING).update(
            status=CallStatus.SENDING, started_at=timezone.now()
        )
        if claimed:
            _failed(call.pk, "never sent: the process stopped before making the call")
        done.append(GatewayCall.objects.get(pk=call.pk))
    return done


def mask_iban(iban: str) -> str:
    return f"{iban[:4]}…{iban[-4:]}"
