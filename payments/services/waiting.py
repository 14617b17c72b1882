"""The payment that waits for what an invoice still owes (SPEC section 4).

Every use case that changes what is due on an invoice (issuing, a part payment, an
assignment, a wallet prepayment, a refund or a dispute) keeps that one payment in step
through these helpers; whether it may be paid yet depends on the ERP's approval.
"""

from ledger.models import Account, Invoice
from ledger.services import Actor

from ..models import Payment, PaymentStatus, PaymentTransition, PaymentType
from .common import create_payment, open_payment_for
from .transitions import apply

S = PaymentStatus


def payment_type_for(invoice: Invoice) -> str:
    return PaymentType.ORDER if invoice.is_prepaid_order else PaymentType.RENDERED_SERVICES


def awaiting_erp(invoice: Invoice) -> bool:
    """The invoice's payment still waits for the ERP's approval: not payable yet."""
    return Payment.objects.filter(
        invoice=invoice, direction="incoming", status=S.PENDING_BILLING
    ).exists()


def erp_approved(invoice: Invoice) -> bool:
    """Whether the ERP approved this invoice (one of its payments was approved)."""
    return PaymentTransition.objects.filter(payment__invoice=invoice, name="approve").exists()


def open_waiting_payment(
    invoice: Invoice, account: Account, actor: Actor, *, at=None, reason=""
) -> Payment | None:
    """Open the payment that waits for what the invoice still owes (SPEC section 4).

    On an ERP-managed account a postpay invoice waits in ``pending_billing`` until the
    ERP approves it, once: a payment opened after that approval is payable at once."""
    due = invoice.amount_due
    if due.amount <= 0:
        return None
    kind = payment_type_for(invoice)
    erp = (
        kind == PaymentType.RENDERED_SERVICES and account.erp_managed and not erp_approved(invoice)
    )
    return create_payment(
        account=account,
        type=kind,
        amount=due,
        actor=actor,
        status=S.PENDING_BILLING if erp else S.WAITING_FOR_PAYMENT,
        invoice=invoice,
        due_date=invoice.due_date,
        reason=reason,
        at=at,
    )


def sync_open_payment(invoice: Invoice, actor: Actor, *, reason: str) -> None:
    """Keep the invoice's waiting payment equal to what is due: shrink it, or cancel it
    when nothing is due any more. A payment at a gateway is left alone."""
    payment = open_payment_for(invoice)
    if payment is None or payment.status == S.PROCESSING:
        return
    due = invoice.amount_due
    if due.amount <= 0:
        apply(payment, "cancel", actor=actor, reason=reason)
    elif payment.amount != due:
        payment.amount = due
        payment.save(update_fields=["amount", "currency"])
