"""The staff actions on a payment: label, permission, form, and the service they call.

State-machine actions are offered only when ``refusal`` finds nothing against them and
the user holds the transition's permission; refunds, disputes and assignment when the
payment is completed and has money left for them. The POST checks the permission again
(403 on a forged POST) and the service re-checks the state under its locks.
"""

from ledger.admin_actions import ObjectAction, optional_amount

from ..models import Payment, PaymentStatus
from ..services import (
    approve_by_erp,
    assign_payment,
    cancel_payment,
    check_permission,
    create_receipt,
    mark_payment_paid,
    pay_from_balance,
    record_dispute,
    refund_payment,
    start_direct_debit,
)
from ..services.gateway_refunds import retry_refund
from ..services.transitions import METHOD_CHOSEN_IN_FORM, refusal, transition_permission
from . import forms as f
from .assign import AssignForm
from .payment_extras import DirectDebitForm, assigned_words, direct_debit_figures, figures


def _judged_method(payment: Payment, name: str) -> str | None:
    """The method the action's form will set, to judge the state machine with it."""
    if name == "pay_from_balance" or not payment.method:
        return METHOD_CHOSEN_IN_FORM.get(name)
    return None


def _fsm_refusal(name):
    return lambda p: refusal(p, name, method=_judged_method(p, name))


def fsm_action(name, label, form, run, done, help=""):
    """An action that is one transition of the payment's state machine."""
    return ObjectAction(
        label=label,
        permission=transition_permission(name),
        run=run,
        done=done,
        form=form,
        offered=lambda p, user: _fsm_refusal(name)(p) is None,
        check=lambda p, n, user: check_permission(p, n, user),
        refusal=_fsm_refusal(name),
        form_needs_object=form in (f.MarkPaidForm,),
        context=figures,
        help=help,
    )


def _settled(payment: Payment) -> bool:
    return payment.status == PaymentStatus.COMPLETED and payment.direction == "incoming"


def _failed_refund(payment: Payment) -> bool:
    """A gateway refund that failed: waiting again, its money owed to the member."""
    return bool(
        payment.refund_of_id
        and payment.gateway
        and payment.status == PaymentStatus.WAITING_FOR_PAYMENT
    )


PAYMENT_ACTIONS = {
    "approve": fsm_action(
        "approve",
        "Approve by ERP",
        f.ReasonForm,
        lambda p, a, d: approve_by_erp(payment=p.pk, actor=a, reason=d.get("reason", "")),
        "Payment {number} approved: now waiting for payment.",
    ),
    "create_receipt": fsm_action(
        "create_receipt",
        "Create receipt",
        f.ReceiptForm,
        lambda p, a, d: create_receipt(
            payment=p.pk, actor=a, method=d.get("method"), note=d.get("note", "")
        ),
        "Receipt {receipt_number} created for payment {number}.",
    ),
    "mark_paid": fsm_action(
        "mark_paid",
        "Mark as paid",
        f.MarkPaidForm,
        lambda p, a, d: mark_payment_paid(
            payment=p.pk,
            actor=a,
            method=d["method"],
            amount=optional_amount(d),
            reference=d.get("reference", ""),
            note=d.get("note", ""),
        ),
        "Payment {number} marked as paid.",
    ),
    "pay_from_balance": fsm_action(
        "pay_from_balance",
        "Pay from balance",
        None,
        lambda p, a, d: pay_from_balance(payment=p.pk, actor=a),
        "Payment {number} paid from the account balance.",
    ),
    "cancel": fsm_action(
        "cancel",
        "Cancel",
        f.ReasonForm,
        lambda p, a, d: cancel_payment(payment=p.pk, actor=a, reason=d.get("reason", "")),
        "Payment {number} cancelled.",
    ),
    "refund": ObjectAction(
        label="Refund",
        permission="payments.refund_payment",
        form=f.AmountReasonForm,
        run=lambda p, a, d: refund_payment(
            payment=p.pk, actor=a, amount=optional_amount(d), reason=d.get("reason", "")
        ),
        done="Refund {number} recorded.",
        offered=lambda p, user: _settled(p) and p.reversible.amount > 0,
    ),
    "dispute": ObjectAction(
        label="Record dispute",
        permission="payments.record_dispute",
        form=f.AmountReasonForm,
        run=lambda p, a, d: record_dispute(
            payment=p.pk, actor=a, amount=optional_amount(d), reason=d.get("reason", "")
        ),
        done="Dispute {number} recorded; the invoice is owed again.",
        offered=lambda p, user: _settled(p) and p.reversible.amount > 0,
    ),
    "retry_refund": ObjectAction(
        label="Retry refund",
        permission="payments.refund_payment",
        run=lambda p, a, d: retry_refund(refund=p.pk, actor=a),
        done="Refund {number} sent to the gateway again.",
        offered=lambda p, user: _failed_refund(p),
    ),
    "assign": ObjectAction(
        label="Assign to invoices",
        permission="payments.assign_payment",
        form=AssignForm,
        run=lambda p, a, d: assign_payment(payment=p.pk, actor=a, allocations=d["allocations"]),
        done=lambda p, made: f"Payment {p.number}: {assigned_words(made)}.",
        # A wallet's top-up is wallet money, not account credit: it is applied from
        # the wallet's page.
        offered=lambda p, user: _settled(p) and not p.wallet_id and p.unallocated.amount > 0,
        form_needs_object=True,
        context=figures,
        template="admin/payments/payment/assign.html",
        help="Apply money this payment has free (account credit) to open invoices of the "
        "account. It posts nothing: the money is already on the ledger.",
    ),
    "direct_debit": ObjectAction(
        label="Collect by direct debit",
        permission="payments.mark_paid",
        form=DirectDebitForm,
        form_needs_object=True,
        run=lambda p, a, d: start_direct_debit(payment=p.pk, iban=d.get("iban") or None, actor=a),
        done="Payment {number}: direct debit sent to the bank; processing until it confirms.",
        offered=lambda p, user: (
            refusal(p, "start_processing", method="direct_debit") is None
            and p.method in ("", "direct_debit")
        ),
        context=lambda p: figures(p) + direct_debit_figures(p),
        help="Collect the money from the member's bank account under their mandate. The "
        "payment is processing until the bank confirms (or returns it).",
    ),
}
