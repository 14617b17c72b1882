"""Money going back: refunds (whole or part), disputes (chargebacks) and direct-debit
returns, SPEC 3 and 5.

A refund is an outgoing payment linked to the original. For the part of the original
that paid an invoice it posts ``INVC`` −x and ``PAYM`` −x (the invoice is reduced and
the money leaves); for the part that was account credit it posts ``PAYM`` −x only. A
refund through a gateway is decided now and posted when the gateway confirms it.
A dispute is an outgoing payment that offsets the original with ``PAYM`` −x: the
invoice goes to ``disputed`` and is owed again, with a new payment waiting for it.
A direct-debit return (the bank could not collect) posts ``PAYM`` −x too, but the
invoice simply owes again (due or partially paid): it is a failed collection.

All run the same steps (``_reverse``, with the steps in ``reversal_steps``); where
they differ, ``Reversal`` says which it is.
"""

from django.db import transaction
from moneyed import Money

from ledger import services as ledger
from ledger.errors import StateConflict
from ledger.models import Invoice
from ledger.money import format_money, to_money
from ledger.services import Actor

from ..models import Payment, PaymentAllocation, PaymentStatus
from .gateway_refunds import refunding_on, request_refund
from .reversal_steps import (
    Reversal,
    amount_to_reverse,
    announce_reversal,
    carry_out,
    check_plan,
    lock_for_reversal,
    open_reversal,
    plan,
    reverse_top_up,
)

S = PaymentStatus


def _reverse(
    *,
    payment: Payment | int,
    amount,
    actor: Actor,
    reason: str,
    kind: Reversal,
    invoice_id: int | None = None,
    at=None,
) -> Payment:
    """Give back ``amount`` of a completed payment (only what paid ``invoice_id`` when
    given); returns the outgoing payment."""
    with transaction.atomic():
        account, original, invoices = lock_for_reversal(payment)
        money = amount_to_reverse(original, amount, account.currency, kind)
        if original.wallet_id:
            reversal = reverse_top_up(original, account, money, actor, reason, kind, at)
            announce_reversal(original, reversal, kind)
            return reversal
        from_credit, parts, left = plan(original, money, invoice_id)
        label = invoices.get(invoice_id) or invoice_id
        check_plan(original, account, money, from_credit, left, label, kind)
        if kind is Reversal.REFUND and original.gateway:
            return request_refund(
                original, account, money, from_credit, parts, invoice_id, actor, reason, at
            )
        reversal = open_reversal(original, account, money, kind, actor, reason, at)
        carry_out(
            original,
            reversal,
            account,
            money,
            from_credit,
            parts,
            invoices,
            kind,
            reason,
            actor,
            at,
        )
        announce_reversal(original, reversal, kind)
        return reversal


def refund_payment(
    *, payment: Payment | int, actor: Actor, amount=None, reason: str = "", at=None
) -> Payment:
    """Refund a completed payment, whole (default) or in part; returns the refund. A
    gateway payment's refund is processing until the gateway confirms it: its entries
    are posted then (``gateway_refunds``)."""
    return _reverse(
        payment=payment, amount=amount, actor=actor, reason=reason, kind=Reversal.REFUND, at=at
    )


def record_dispute(
    *, payment: Payment | int, actor: Actor, amount=None, reason: str = "", at=None
) -> Payment:
    """Record a chargeback on a completed payment; returns the offsetting payment."""
    return _reverse(
        payment=payment, amount=amount, actor=actor, reason=reason, kind=Reversal.DISPUTE, at=at
    )


def record_return(
    *, payment: Payment | int, actor: Actor, amount=None, reason: str = "", at=None
) -> Payment:
    """A direct debit the bank returned after confirming it: the collection failed.
    ``PAYM`` −x, the invoice owes again (due or partially paid, not disputed) and a new
    payment waits for it; returns the outgoing payment (``return_of`` the original)."""
    return _reverse(
        payment=payment, amount=amount, actor=actor, reason=reason, kind=Reversal.RETURN, at=at
    )


def _refundable(invoice: Invoice, amount, currency: str) -> Money:
    """What to refund on the invoice (default: all that was paid and is not already
    being refunded at a gateway), at most that."""
    paid = invoice.amount_paid - refunding_on(invoice.pk, currency)
    money = paid if amount is None else to_money(amount, currency)
    if money.amount <= 0:
        raise StateConflict(
            f"Invoice {invoice}: nothing was paid on it that could be refunded.",
            field="amount",
        )
    if money > paid:
        raise StateConflict(
            f"Invoice {invoice}: cannot refund {format_money(money)}; "
            f"{format_money(paid)} was paid on it.",
            field="amount",
        )
    return money


def _payments_of(invoice_id: int):
    """The completed incoming payments that paid the invoice, newest first."""
    return (
        Payment.objects.filter(
            allocations__invoice_id=invoice_id,
            allocations__amount__gt=0,
            status=S.COMPLETED,
            direction="incoming",
        )
        .distinct()
        .order_by("-completed_at", "-id")
    )


def _paid_on(payment: Payment, invoice_id: int, currency: str) -> Money:
    """What the payment still pays of the invoice (its allocations net of reversals and
    of what refunds at a gateway reserved)."""
    allocations = PaymentAllocation.objects.filter(payment=payment, invoice_id=invoice_id)
    paid = sum((a.amount for a in allocations), Money(0, currency))
    return paid - refunding_on(invoice_id, currency, payment=payment)


def refund_invoice(
    *, invoice: Invoice | int, actor: Actor, amount=None, reason: str = "", at=None
) -> list[Payment]:
    """Refund money paid on an invoice (default: all of it), newest payments first.

    Each payment gives back what it paid of this invoice; what was paid from the
    account's balance is not money that can be refunded, and is refused."""
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else int(invoice)
    with transaction.atomic():
        account, locked = ledger.lock_invoice(invoice_id)
        left = _refundable(locked, amount, account.currency)
        refunds = []
        for payment in _payments_of(invoice_id):
            if left.amount <= 0:
                break
            part = min(_paid_on(payment, invoice_id, account.currency), left, payment.reversible)
            if part.amount > 0:
                refunds.append(
                    _reverse(
                        payment=payment,
                        amount=part,
                        actor=actor,
                        reason=reason,
                        kind=Reversal.REFUND,
                        invoice_id=invoice_id,
                        at=at,
                    )
                )
                left -= part
        if left.amount > 0:
            raise StateConflict(
                f"Invoice {locked}: {format_money(left)} of it was paid from the account "
                "balance and cannot be refunded as money.",
                field="amount",
            )
        return refunds
