"""Shared pieces of the payment services: locks, new payments, the transition log."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from moneyed import Money

from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, Invoice
from ledger.money import format_money
from ledger.services import Actor, lock_account

from ..models import Payment, PaymentStatus, PaymentTransition
from ..models.payments import WAITING_STATUSES
from ..numbers import new_payment_number

S = PaymentStatus


def lock_payment(payment: Payment | int) -> tuple[Account, Payment]:
    """Lock the payment's account, then the payment (the order of ``ledger.locks``)."""
    from ledger.locks import lock_row

    payment_id = payment.pk if isinstance(payment, Payment) else payment
    account_id = Payment.objects.values_list("account_id", flat=True).get(pk=payment_id)
    return lock_account(account_id), lock_row(Payment, payment_id)


def log_transition(
    payment: Payment,
    *,
    name: str,
    source: str,
    actor: Actor,
    reason: str = "",
    at: datetime | None = None,
) -> PaymentTransition:
    row = transition_row(payment, name=name, source=source, actor=actor, reason=reason, at=at)
    row.save()
    return row


def transition_row(payment: Payment, *, name, source, actor, reason="", at=None):
    """A transition-log row, unsaved (``log_transition`` saves one)."""
    return PaymentTransition(
        payment=payment,
        name=name,
        source=source,
        target=payment.status,
        at=at or timezone.now(),
        actor_id=actor.user_id,
        actor_label=actor.label[:150],
        reason=(reason or "")[:255],
    )


def payment_row(
    *, account, type, amount, actor, status, method, invoice, due_date, direction, **fields
) -> Payment:
    """A new payment in its first status, unsaved, with a fresh random number."""
    zero = Money(0, account.currency)
    return Payment(
        number=new_payment_number(),
        account=account,
        direction=direction,
        type=type,
        method=method,
        status=status,
        currency=account.currency,
        amount=amount,
        amount_allocated=zero,
        amount_reversed=zero,
        refund_pending=zero,
        refund_pending_credit=zero,
        invoice=invoice,
        due_date=due_date,
        created_by=actor.user,
        **fields,
    )


def create_payment(
    *,
    account: Account,
    type: str,
    amount: Money,
    actor: Actor,
    status: str = S.WAITING_FOR_PAYMENT,
    method: str = "",
    invoice: Invoice | None = None,
    due_date=None,
    direction: str = "incoming",
    reason: str = "",
    at: datetime | None = None,
    **fields,
) -> Payment:
    """Insert a payment in its first status and log its creation (inside a transaction)."""
    if amount.amount <= 0:
        raise InvalidInput(
            f"amount: a payment must be positive (got {format_money(amount)}).", "amount"
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                payment = payment_row(
                    account=account,
                    type=type,
                    amount=amount,
                    actor=actor,
                    status=status,
                    method=method,
                    invoice=invoice,
                    due_date=due_date,
                    direction=direction,
                    **fields,
                )
                payment.save(force_insert=True)
            break
        except IntegrityError as exc:  # a number collision: draw again
            if "number" not in str(exc):
                raise
    else:  # pragma: no cover - 80 random bits
        raise StateConflict("Could not draw a unique payment number.", field="number")
    log_transition(payment, name="create", source="", actor=actor, reason=reason, at=at)
    return payment


def open_payment_for(invoice: Invoice) -> Payment | None:
    """The invoice's payment still waiting for money, locked (or None)."""
    return (
        Payment.objects.select_for_update(no_key=True)
        .filter(
            invoice=invoice,
            direction="incoming",
            status__in=WAITING_STATUSES,
        )
        .order_by("-id")
        .first()
    )
