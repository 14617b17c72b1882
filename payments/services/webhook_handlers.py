"""What each gateway event does to its (locked) payment: ``HANDLERS[type](event,
payment, actor) -> (EventStatus, detail)``. Called by ``webhooks`` inside the
transaction that also records the event.

Money a gateway took is never dropped: a success completes a processing payment
whatever happened to its invoice meanwhile (what the invoice no longer needs stays as
account credit, ``completion.complete``), and a success for a payment given up on
meanwhile (cancelled, expired) is kept as account credit on a payment of its own.
"""

from ledger.money import format_money

from ..models import EventStatus, Payment, PaymentStatus
from .completion import complete_gateway_payment, record_payment
from .gateway_flows import mark_links_paid
from .gateway_refunds import confirm_refund, fail_refund
from .reversals import record_dispute, record_return
from .transitions import apply

S = PaymentStatus
E = EventStatus


def _reason(event) -> str:
    return str(event.data.get("reason") or "")[:200]


def processing(event, payment: Payment, actor):
    if payment.status == S.WAITING_FOR_PAYMENT:
        apply(payment, "start_processing", actor=actor, reason=event.id)
        return E.PROCESSED, "processing"
    if payment.status == S.PROCESSING:
        return E.PROCESSED, "already processing"
    return E.STALE, f"payment is already {payment.status}"


def _keep_as_credit(event, payment: Payment, actor):
    """The gateway took money for a payment no longer waiting for it: the money is
    recorded all the same, as account credit on a payment of its own."""
    credit = record_payment(
        account=payment.account_id,
        amount=payment.amount.amount,
        method=payment.method or "card",
        actor=actor,
        reference=event.payment_reference,
        note=f"money taken by {payment.gateway or 'the gateway'} for payment "
        f"{payment.number}, which was {payment.status}",
    )
    return E.PROCESSED, (
        f"payment is {payment.status}: {format_money(credit.amount)} kept as account "
        f"credit (payment {credit.number})"
    )


def succeeded(event, payment: Payment, actor):
    if payment.direction != "incoming":
        return E.FAILED, "a payment event for a refund (expected refund.*)"
    if payment.status == S.WAITING_FOR_PAYMENT:  # the confirmation overtook the notice
        apply(payment, "start_processing", actor=actor, reason=event.id)
    if payment.status == S.PROCESSING:
        done = complete_gateway_payment(payment=payment.pk, actor=actor)
        mark_links_paid(payment)
        note = done.transitions.order_by("-id").values_list("reason", flat=True).first()
        return E.PROCESSED, "completed" + (f"; {note}" if note else "")
    if payment.status == S.COMPLETED:
        return E.STALE, "already completed"
    return _keep_as_credit(event, payment, actor)


def failed(event, payment: Payment, actor):
    if payment.status == S.PROCESSING and payment.direction == "incoming":
        payment.decline_reason = _reason(event) or "declined"
        apply(
            payment,
            "fail_processing",
            actor=actor,
            reason=_reason(event),
            extra_fields=["decline_reason"],
        )
        return E.PROCESSED, f"declined: {payment.decline_reason}"
    return E.STALE, f"payment is {payment.status}"


def disputed(event, payment: Payment, actor):
    if payment.status == S.COMPLETED:
        record_dispute(payment=payment.pk, actor=actor, reason=f"chargeback: {_reason(event)}")
        return E.PROCESSED, "chargeback"
    if payment.status in (S.WAITING_FOR_PAYMENT, S.PROCESSING):
        return E.OUT_OF_ORDER, "the charge has not completed yet"
    return E.FAILED, f"payment is {payment.status}"


def returned(event, payment: Payment, actor):
    """A direct debit the bank returned: a failed collection, not a dispute."""
    if payment.status == S.COMPLETED:
        why = f"Direct debit returned: {_reason(event) or 'returned by the bank'}"
        record_return(payment=payment.pk, actor=actor, reason=why)
        return E.PROCESSED, why
    if payment.status in (S.WAITING_FOR_PAYMENT, S.PROCESSING):
        return E.OUT_OF_ORDER, "the collection has not been confirmed yet"
    return E.FAILED, f"payment is {payment.status}"


def refund_succeeded(event, payment: Payment, actor):
    if payment.direction != "outgoing" or payment.refund_of_id is None:
        return E.FAILED, "a refund event for a payment that is not a refund"
    if payment.status == S.PROCESSING:
        confirm_refund(payment, actor=actor, detail=event.id)
        return E.PROCESSED, "refund completed"
    if payment.status == S.COMPLETED:
        return E.STALE, "refund already completed"
    return E.OUT_OF_ORDER, f"refund is {payment.status}"


def refund_failed(event, payment: Payment, actor):
    if payment.direction != "outgoing" or payment.refund_of_id is None:
        return E.FAILED, "a refund event for a payment that is not a refund"
    if payment.status == S.PROCESSING:
        reason = _reason(event) or "refused by the gateway"
        fail_refund(payment, reason=reason, actor=actor)
        return E.PROCESSED, f"refund failed: {reason}"
    return E.STALE, f"refund is {payment.status}"


HANDLERS = {
    "payment.processing": processing,
    "payment.succeeded": succeeded,
    "payment.failed": failed,
    "payment.disputed": disputed,
    "payment.returned": returned,
    "refund.succeeded": refund_succeeded,
    "refund.failed": refund_failed,
}


def handle(event, payment: Payment, actor) -> tuple[str, str]:
    handler = HANDLERS.get(event.type)
    if handler is None:
        return E.FAILED, f"unknown event type {event.type!r}"
    return handler(event, payment, actor)
