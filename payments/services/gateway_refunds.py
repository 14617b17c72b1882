"""Refunds through a gateway (SPEC sections 3 and 5): decided by staff, paid back by
the gateway, on the books when the gateway confirms.

Deciding (``request_refund``, from ``reversals.refund_payment`` / ``refund_invoice``)
plans which money goes back — the original's unallocated credit, then its allocations —
reserves it on the original (``refund_pending``, ``refund_pending_credit``: nothing
reserved can be refunded, disputed or assigned again), opens the outgoing payment in
``processing`` and records the gateway call, made after commit. Nothing is posted.

``refund.succeeded`` carries the plan out (``confirm_refund``): ``INVC`` −x / ``PAYM``
−x as for any refund, and the refund completes. ``refund.failed`` — or a call the
gateway never took — posts nothing (``fail_refund``): the reservation is released, the
refund goes back to ``waiting_for_payment`` with the reason (the money is still owed to
the member, shown on both payments' pages) and staff retry it or cancel it.
"""

from dataclasses import dataclass

from django.db import transaction
from moneyed import Money

from ledger.errors import StateConflict
from ledger.locks import lock_row
from ledger.money import to_money
from ledger.services import Actor

from .. import gateways
from ..models import CallKind, GatewayCall, Payment, PaymentAllocation, PaymentStatus
from .common import create_payment
from .gateway_calls import record_intent, send_after_commit
from .reversal_steps import (
    Reversal,
    amount_to_reverse,
    announce_reversal,
    carry_out,
    check_plan,
    lock_for_reversal,
    plan,
)
from .transitions import apply

S = PaymentStatus


@dataclass(frozen=True)
class RefundPlan:
    """What a gateway refund gives back: from the unallocated credit, and per
    allocation ``(allocation id, invoice id, part)``; kept in its call's ``request``."""

    amount: Money
    from_credit: Money
    parts: list
    invoice_id: int | None
    reason: str

    def as_request(self) -> dict:
        return {
            "amount": str(self.amount.amount),
            "from_credit": str(self.from_credit.amount),
            "parts": [[a, i, str(p.amount)] for a, i, p in self.parts],
            "invoice": self.invoice_id,
            "reason": self.reason,
        }

    @classmethod
    def from_request(cls, request: dict, currency: str) -> "RefundPlan":
        return cls(
            amount=to_money(request["amount"], currency),
            from_credit=to_money(request["from_credit"], currency),
            parts=[(a, i, to_money(p, currency)) for a, i, p in request["parts"]],
            invoice_id=request.get("invoice"),
            reason=request.get("reason", ""),
        )


def current_plan(refund: Payment) -> RefundPlan:
    """The plan of the refund's latest call."""
    call = GatewayCall.objects.filter(payment=refund, kind=CallKind.REFUND).latest("id")
    return RefundPlan.from_request(call.request, refund.currency)


def _latest_calls(refunds) -> list[GatewayCall]:
    calls = GatewayCall.objects.filter(kind=CallKind.REFUND, payment__in=refunds)
    latest = {}
    for call in calls.select_related("payment").order_by("payment_id", "-id"):
        latest.setdefault(call.payment_id, call)
    return list(latest.values())


def pending_plans(payment: Payment) -> list[tuple[Payment, RefundPlan]]:
    """The refunds of ``payment`` still processing at the gateway, with their plans."""
    refunds = Payment.objects.filter(refund_of=payment, status=S.PROCESSING)
    return [
        (c.payment, RefundPlan.from_request(c.request, c.payment.currency))
        for c in _latest_calls(refunds)
    ]


def refunding_on(invoice_id: int, currency: str, *, payment: Payment | None = None) -> Money:
    """What refunds still at a gateway reserved of the invoice (of ``payment`` only)."""
    refunds = Payment.objects.filter(
        status=S.PROCESSING, refund_of__allocations__invoice_id=invoice_id
    )
    if payment is not None:
        refunds = refunds.filter(refund_of=payment)
    total = Money(0, currency)
    for call in _latest_calls(refunds.distinct()):
        for _a, i, part in RefundPlan.from_request(call.request, currency).parts:
            if i == invoice_id:
                total += part
    return total


def _reserve(original: Payment, plan_: RefundPlan, sign: int) -> None:
    original.refund_pending += plan_.amount * sign
    original.refund_pending_credit += plan_.from_credit * sign
    original.save(update_fields=["refund_pending", "refund_pending_credit", "currency"])


def _reserve_and_send(original: Payment, refund: Payment, plan_: RefundPlan) -> None:
    _reserve(original, plan_, +1)
    call = record_intent(refund, CallKind.REFUND, refund.gateway, plan_.as_request())
    send_after_commit(call)


def request_refund(
    original, account, money, from_credit, parts, invoice_id, actor: Actor, reason, at
) -> Payment:
    """Decide a refund of a gateway payment (the caller holds the reversal locks and
    checked the plan): reserve it, open the refund ``processing``, call after commit."""
    if gateways.by_name(original.gateway) is None:
        raise StateConflict(f"Gateway {original.gateway!r} is not configured.", field="gateway")
    refund = create_payment(
        account=account,
        type=original.type,
        amount=money,
        actor=actor,
        status=S.PROCESSING,
        method=original.method,
        direction="outgoing",
        invoice=original.invoice,
        reason=f"refund sent to {original.gateway}" + (f": {reason}" if reason else ""),
        at=at,
        note=(reason or "")[:255],
        refund_of=original,
        gateway=original.gateway,
    )
    parts = [(a.pk, a.invoice_id, p) for a, p in parts]
    _reserve_and_send(original, refund, RefundPlan(money, from_credit, parts, invoice_id, reason))
    return refund


def confirm_refund(refund: Payment, *, actor: Actor, detail: str = "", at=None) -> Payment:
    """The gateway paid the refund back: post it as planned and complete it. The caller
    holds the account lock and the refund's row."""
    account, original, invoices = lock_for_reversal(refund.refund_of_id)
    plan_ = current_plan(refund)
    _reserve(original, plan_, -1)
    parts = [(PaymentAllocation.objects.get(pk=a), part) for a, _i, part in plan_.parts]
    carry_out(
        original,
        refund,
        account,
        plan_.amount,
        plan_.from_credit,
        parts,
        invoices,
        Reversal.REFUND,
        plan_.reason,
        actor,
        at,
    )
    reason = "the gateway confirmed the refund" + (f" ({detail})" if detail else "")
    apply(refund, "complete_from_gateway", actor=actor, at=at, reason=reason)
    announce_reversal(original, refund, Reversal.REFUND)
    return refund


def fail_refund(refund: Payment, *, reason: str, actor: Actor) -> Payment:
    """The gateway did not pay the refund back: nothing is posted, the reservation is
    released and the refund waits again with the reason — money still owed to the
    member. The caller holds the account lock and the refund's row."""
    original = lock_row(Payment, refund.refund_of_id)
    _reserve(original, current_plan(refund), -1)
    refund.decline_reason = reason[:255]
    return apply(
        refund,
        "fail_processing",
        actor=actor,
        reason=f"refund failed: {reason}; the money is still owed to the member"[:255],
        extra_fields=["decline_reason"],
    )


def retry_refund(*, refund: Payment | int, actor: Actor) -> Payment:
    """Send a refund the gateway failed again (staff): planned and reserved anew."""
    refund_id = refund.pk if isinstance(refund, Payment) else int(refund)
    with transaction.atomic():
        original_id = Payment.objects.values_list("refund_of_id", flat=True).get(pk=refund_id)
        if original_id is None:
            raise StateConflict("Only a refund can be sent again.", field="payment")
        account, original, invoices = lock_for_reversal(original_id)
        locked = lock_row(Payment, refund_id)
        if locked.status != S.WAITING_FOR_PAYMENT or not locked.gateway:
            raise StateConflict(
                f"Refund {locked.number} is {locked.status}: only a refund the gateway "
                "failed can be sent again.",
                field="status",
            )
        previous = current_plan(locked)
        money = amount_to_reverse(original, locked.amount, account.currency, Reversal.REFUND)
        from_credit, parts, left = plan(original, money, previous.invoice_id)
        label = invoices.get(previous.invoice_id) or previous.invoice_id
        check_plan(original, account, money, from_credit, left, label, Reversal.REFUND)
        locked.decline_reason, locked.gateway_reference = "", None
        apply(
            locked,
            "start_processing",
            actor=actor,
            reason=f"refund sent to {locked.gateway} again",
            extra_fields=["decline_reason", "gateway_reference"],
        )
        parts = [(a.pk, a.invoice_id, p) for a, p in parts]
        plan_ = RefundPlan(money, from_credit, parts, previous.invoice_id, previous.reason)
        _reserve_and_send(original, locked, plan_)
        return locked
