"""Run a payment transition safely: lock, re-check, explain a refusal, save, log."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from events import services as events
from events.models import EventType
from ledger.errors import StateConflict
from ledger.services import Actor

from ..models import Payment, PaymentStatus
from .common import log_transition

ACTION_LABELS = {
    "approve": "approve it by ERP",
    "expire": "expire it",
    "cancel": "cancel it",
    "create_receipt": "create a receipt",
    "send_receipt": "send the receipt",
    "start_processing": "send it to a gateway",
    "fail_processing": "mark it declined",
    "mark_paid": "mark it as paid",
    "complete_from_gateway": "complete it from the gateway",
    "pay_from_balance": "pay it from the balance",
}


# Transitions whose form asks for the method: offered when some method would do.
METHOD_CHOSEN_IN_FORM = {
    "mark_paid": "bank_transfer",
    "create_receipt": "bank_transfer",
    "pay_from_balance": "account_balance",
}


def refusal(payment: Payment, name: str, *, method: str | None = None) -> str | None:
    """Why ``name`` cannot run on ``payment`` now, in words; None when it can.

    ``method``: judge as if the payment had that method (the form will set it).
    """
    if method is not None and method != payment.method:
        saved = payment.method
        payment.method = method
        try:
            return refusal(payment, name)
        finally:
            payment.method = saved
    meta = getattr(payment, name)._django_fsm
    state = payment.status
    if state == PaymentStatus.PROCESSING and name not in (
        "complete_from_gateway",
        "fail_processing",
    ):
        return "a gateway is processing it; no action is possible until the gateway answers"
    if not meta.has_transition(state):
        return f"that is not possible from '{state}'"
    failed = [c.hint for c in (meta.get_transition(state).conditions or []) if not c(payment)]
    return "; ".join(failed) if failed else None


def refuse(payment: Payment, name: str, why: str) -> StateConflict:
    label = ACTION_LABELS.get(name, name)
    return StateConflict(
        f"Payment {payment.number} ({payment.get_type_display().lower()}, "
        f"{payment.get_method_display() or 'no method'}) is {payment.status}: "
        f"cannot {label}: {why}.",
        field="status",
    )


def apply(
    payment: Payment,
    name: str,
    *,
    actor: Actor,
    reason: str = "",
    at: datetime | None = None,
    extra_fields=(),
) -> Payment:
    """Run transition ``name`` on a payment the caller has locked; save and log it."""
    why = refusal(payment, name)
    if why:
        raise refuse(payment, name, why)
    source = payment.status
    getattr(payment, name)()
    if payment.status == PaymentStatus.COMPLETED and payment.completed_at is None:
        payment.completed_at = at or timezone.now()
    payment.save(update_fields=["status", "completed_at", *extra_fields])
    log_transition(payment, name=name, source=source, actor=actor, reason=reason, at=at)
    if name == "fail_processing" and payment.direction == "incoming":
        # A gateway declined the payment or its call failed: it waits again.
        events.emit(
            EventType.PAYMENT_FAILED, account=payment.account_id, objects={"payment": payment}
        )
    return payment


def transition_permission(name: str) -> str | None:
    """The permission a transition declares (the same for all its source states)."""
    meta = getattr(Payment, name)._django_fsm
    return next((t.permission for t in meta.transitions.values() if t.permission), None)


def user_may(name: str, user) -> bool:
    """Whether ``user`` holds the permission of transition ``name``. Transitions without
    one are run by the system (expiry, gateways), never by a person."""
    permission = transition_permission(name)
    return bool(permission) and user.has_perm(permission)


def check_permission(payment: Payment, name: str, user) -> None:
    """Admin and API guard: the user must hold the transition's permission.

    (django-fsm's ``has_transition_perm`` also evaluates the conditions, which depend
    on the method the form is about to set; the state is judged by ``refusal``.)
    """
    if not user_may(name, user):
        raise PermissionDenied(f"You are not allowed to {ACTION_LABELS.get(name, name)}.")


def available_transitions(payment: Payment, user) -> list[str]:
    """Staff actions offered for this payment to this user (none while processing)."""
    names = [
        "approve",
        "create_receipt",
        "send_receipt",
        "mark_paid",
        "pay_from_balance",
        "cancel",
    ]
    offered = []
    for n in names:
        method = METHOD_CHOSEN_IN_FORM.get(n) if not payment.method else None
        if n == "pay_from_balance":
            method = "account_balance"
        if refusal(payment, n, method=method) is None and user_may(n, user):
            offered.append(n)
    return offered
