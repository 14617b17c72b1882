"""Run any staff or system transition by name, with its business effects.

Transitions that move money or documents go to their own service (mark as paid posts
``PAYM``, a receipt gets its number and its email, a gateway completion settles the
invoice); the others only change the status. Every path locks, re-checks, and logs.
"""

from django.db import transaction

from ledger.errors import InvalidInput
from ledger.services import Actor

from ..models import Payment
from .common import lock_payment
from .completion import complete_gateway_payment, mark_payment_paid
from .credit import pay_from_balance
from .lifecycle import create_receipt, send_receipt
from .transitions import apply, check_permission

WITH_EFFECTS = {
    "mark_paid": lambda p, a: mark_payment_paid(payment=p, method=p.method, actor=a),
    "pay_from_balance": lambda p, a: pay_from_balance(payment=p, actor=a),
    "complete_from_gateway": lambda p, a: complete_gateway_payment(payment=p, actor=a),
    "create_receipt": lambda p, a: create_receipt(payment=p, actor=a, method=p.method or None),
    "send_receipt": lambda p, a: send_receipt(payment=p, actor=a),
}
STATUS_ONLY = {"approve", "expire", "cancel", "start_processing", "fail_processing"}


def transition(
    *, payment: Payment | int, name: str, actor: Actor, reason: str = "", user=None
) -> Payment:
    """Run transition ``name``; ``user``: check that user's permission first (403)."""
    if name not in WITH_EFFECTS and name not in STATUS_ONLY:
        raise InvalidInput(f"name: {name!r} is not a payment transition.", "name")
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        if user is not None:
            check_permission(locked, name, user)
        if name in WITH_EFFECTS:
            return WITH_EFFECTS[name](locked, actor)
        return apply(locked, name, actor=actor, reason=reason)
