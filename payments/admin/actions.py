"""The staff actions on a payment: label, permission, form, and the service they call.

Each action is checked twice: the button is shown only when the payment's state and the
user's permissions allow it, and the POST checks both again (a forged POST gets 403 for
a missing permission, a clear refusal for a state that does not allow it)."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from ..models import Payment, PaymentStatus
from ..services import (
    approve_by_erp,
    assign_payment,
    available_transitions,
    cancel_payment,
    create_receipt,
    mark_payment_paid,
    pay_from_balance,
    record_dispute,
    refund_payment,
    send_receipt,
)
from . import forms as f


@dataclass(frozen=True)
class Action:
    label: str
    permission: str
    form: type[forms.Form] | None
    run: Callable  # (payment, actor, cleaned_data) -> Payment | object
    done: str  # message on success, formatted with the payment
    fsm: bool = True  # offered through the state machine's available transitions


def _amount(data):
    value = data.get("amount")
    return None if value in (None, "") else str(value)


ACTIONS = {
    "approve": Action(
        "Approve by ERP",
        "payments.approve_erp",
        f.ReasonForm,
        lambda p, a, d: approve_by_erp(payment=p.pk, actor=a, reason=d.get("reason", "")),
        "Payment {number} approved: now waiting for payment.",
    ),
    "create_receipt": Action(
        "Create receipt",
        "payments.create_receipt",
        f.ReceiptForm,
        lambda p, a, d: create_receipt(
            payment=p.pk, actor=a, method=d.get("method"), note=d.get("note", "")
        ),
        "Receipt {receipt_number} created for payment {number}.",
    ),
    "send_receipt": Action(
        "Send receipt",
        "payments.send_receipt",
        None,
        lambda p, a, d: send_receipt(payment=p.pk, actor=a),
        "Receipt {receipt_number} sent to {receipt_sent_to}.",
    ),
    "mark_paid": Action(
        "Mark as paid",
        "payments.mark_paid",
        f.MarkPaidForm,
        lambda p, a, d: mark_payment_paid(
            payment=p.pk,
            actor=a,
            method=d["method"],
            amount=_amount(d),
            reference=d.get("reference", ""),
            note=d.get("note", ""),
        ),
        "Payment {number} marked as paid.",
    ),
    "pay_from_balance": Action(
        "Pay from balance",
        "payments.pay_from_balance",
        None,
        lambda p, a, d: pay_from_balance(payment=p.pk, actor=a),
        "Payment {number} paid from the account balance.",
    ),
    "cancel": Action(
        "Cancel",
        "payments.cancel_payment",
        f.ReasonForm,
        lambda p, a, d: cancel_payment(payment=p.pk, actor=a, reason=d.get("reason", "")),
        "Payment {number} cancelled.",
    ),
    "refund": Action(
        "Refund",
        "payments.refund_payment",
        f.AmountReasonForm,
        lambda p, a, d: refund_payment(
            payment=p.pk, actor=a, amount=_amount(d), reason=d.get("reason", "")
        ),
        "Refund {number} recorded.",
        fsm=False,
    ),
    "dispute": Action(
        "Record dispute",
        "payments.record_dispute",
        f.AmountReasonForm,
        lambda p, a, d: record_dispute(
            payment=p.pk, actor=a, amount=_amount(d), reason=d.get("reason", "")
        ),
        "Dispute {number} recorded; the invoice is owed again.",
        fsm=False,
    ),
    "assign": Action(
        "Assign to invoice",
        "payments.assign_payment",
        f.AssignForm,
        lambda p, a, d: assign_payment(
            payment=p.pk, actor=a, allocations=[(d["invoice"], _amount(d))]
        ),
        "Payment {number} assigned.",
        fsm=False,
    ),
}


def offered_actions(payment: Payment, user) -> list[str]:
    """The action names to show as buttons for this payment and user."""
    names = [n for n in available_transitions(payment, user)]
    settled = payment.status == PaymentStatus.COMPLETED and payment.direction == "incoming"
    if settled and payment.reversible.amount > 0:
        names += [n for n in ("refund", "dispute") if user.has_perm(ACTIONS[n].permission)]
    free = payment.amount - payment.amount_allocated - payment.amount_reversed
    if settled and free.amount > 0 and user.has_perm(ACTIONS["assign"].permission):
        names.append("assign")
    return names
