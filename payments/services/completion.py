"""Money arriving: staff mark a payment or an invoice as paid, a gateway confirms a
payment, money received without an invoice becomes account credit (SPEC section 5).

Every path ends in ``complete``: check the transition, record it, then either credit
the payment's wallet or allocate it to its invoice and post the ``PAYM`` credit.
"""

from datetime import datetime

from django.db import transaction
from moneyed import Money

from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, EntryKind, Invoice
from ledger.models.invoices import OPEN
from ledger.money import format_money, to_money
from ledger.services import Actor, Posting
from wallets import services as wallets

from ..models import Payment, PaymentStatus, PaymentType
from ..models.payments import MANUAL_METHODS, RECEIPT_METHODS
from .common import create_payment, lock_payment, open_payment_for
from .credit import allocate
from .receipts import freeze_received
from .transitions import apply, refusal, refuse
from .waiting import open_waiting_payment

S = PaymentStatus


def clean_method(method: str, allowed=MANUAL_METHODS) -> str:
    """The method staff chose, refused unless it is one they may record by hand."""
    if method not in allowed:
        raise InvalidInput(
            f"method: {method or 'empty'} is not one of {', '.join(sorted(allowed))}.",
            field="method",
        )
    return method


def require_payable(invoice: Invoice, *, field: str) -> None:
    """Money can only be received for an invoice that still owes (``OPEN``)."""
    if invoice.status not in OPEN:
        raise StateConflict(
            f"Invoice {invoice} is {invoice.get_status_display().lower()}: nothing is due on it.",
            field=field,
        )


def _paid_amount(payment: Payment, amount, currency: str) -> Money:
    """What staff say arrived: the payment's amount unless they give one (positive)."""
    paid = payment.amount if amount is None else to_money(amount, currency)
    if paid.amount <= 0:
        raise InvalidInput("amount: must be positive.", field="amount")
    return paid


def _completing_method(payment: Payment, name: str, method: str) -> str:
    """Refuse unless transition ``name`` may complete the payment with ``method``;
    return the method to record (a receipt already names it, whatever staff chose)."""
    if payment.direction != "incoming":
        raise refuse(payment, name, "it is an outgoing payment")
    if payment.method in RECEIPT_METHODS and payment.status in (
        S.RECEIPT_CREATING,
        S.RECEIPT_SENT,
    ):
        method = payment.method
    why = refusal(payment, name, method=method)
    if why:
        raise refuse(payment, name, why)
    return method


def _record_completion(
    payment: Payment, name: str, *, method: str, amount: Money, reference, note, actor, at, why=""
) -> None:
    """Run the transition with what arrived: method, amount, the payer's reference
    (``why``: the history's reason, the note by default)."""
    payment.method = method
    payment.amount = amount
    payment.reference = (reference or payment.reference)[:100]
    payment.note = (note or payment.note)[:255]
    apply(
        payment,
        name,
        actor=actor,
        at=at,
        reason=why or note,
        extra_fields=["method", "amount", "currency", "reference", "note"],
    )


def kept_as_credit(invoice: Invoice | None, amount: Money) -> str:
    """Why money a gateway took goes (partly) to account credit, in words, or "": its
    invoice was settled, cancelled or reduced while the gateway was processing."""
    if invoice is None:
        return ""
    if invoice.status not in OPEN:
        state = invoice.get_status_display().lower()
        return f"invoice {invoice.number} is {state}: {format_money(amount)} kept as account credit"
    if invoice.amount_due < amount:
        return (
            f"invoice {invoice.number} owed only {format_money(invoice.amount_due)}: "
            f"{format_money(amount - invoice.amount_due)} kept as account credit"
        )
    return ""


def _credit_wallet(payment: Payment, amount: Money, actor: Actor, at) -> None:
    """Money for a wallet: credited to it now that it arrived; the account ledger sees
    it when the wallet pays an invoice (CRMO) or turns into credit (CRED)."""
    wallets.top_up(
        wallet=payment.wallet_id,
        amount=amount,
        actor=actor,
        source=payment,
        reference=payment.reference_code,
        at=at,
    )


def _post_received(
    payment: Payment, account: Account, invoice: Invoice | None, amount: Money, actor, at
) -> None:
    """Allocate the money to the invoice (what is due at most; the surplus stays as
    credit) and post the ``PAYM`` credit. An invoice that owes nothing any more (a
    gateway's money for an invoice settled or cancelled meanwhile) gets nothing: all of
    it is account credit."""
    posting_ref = payment.reference_code
    if invoice is not None and (invoice.status not in OPEN or invoice.amount_due.amount <= 0):
        invoice = None
    if invoice is not None:
        allocate(payment, invoice, min(amount, invoice.amount_due), actor, at)
        posting_ref = invoice.reference
    description = (
        f"Payment {payment.number}"
        + (f" for invoice {invoice.number}" if invoice else " (account credit)")
        + (f" — ref {payment.reference}" if payment.reference else "")
    )
    ledger.post(
        account=account,
        postings=[
            Posting(
                kind=EntryKind.PAYMENT,
                amount=amount,
                reference=posting_ref,
                description=description,
                invoice=invoice,
                source=payment,
                method=payment.method,
            )
        ],
        actor=actor,
        at=at,
    )


def complete(
    payment: Payment,
    account: Account,
    *,
    method: str,
    amount: Money,
    actor: Actor,
    reference: str,
    note: str,
    at,
    name: str = "mark_paid",
    announce: bool = True,
) -> Payment:
    """Complete a locked payment for ``amount`` (transition ``name``: staff's
    ``mark_paid`` or a gateway's ``complete_from_gateway``), then credit its wallet, or
    allocate it to its invoice, post ``PAYM`` and open a payment for any rest.

    Staff can only complete a payment whose invoice still owes. A gateway's money is
    never refused: what its invoice no longer needs (settled, cancelled or reduced
    meanwhile) stays as account credit, said in the history (SPEC section 5).

    ``announce``: emit ``payment.completed`` here (a caller that allocates the money
    afterwards, the group payment, emits it itself once it has)."""
    method = _completing_method(payment, name, method)
    invoice = None
    if payment.invoice_id:
        _acc, invoice = ledger.lock_invoice(payment.invoice_id)
        if name != "complete_from_gateway":
            require_payable(invoice, field="invoice")
    why = kept_as_credit(invoice, amount) if name == "complete_from_gateway" else ""
    _record_completion(
        payment,
        name,
        method=method,
        amount=amount,
        reference=reference,
        note=note,
        actor=actor,
        at=at,
        why=why,
    )
    if payment.wallet_id:
        _credit_wallet(payment, amount, actor, at)
    else:
        _post_received(payment, account, invoice, amount, actor, at)
        if invoice is not None and invoice.status in OPEN:
            open_waiting_payment(invoice, account, actor, at=at, reason="rest of a part payment")
    payment = freeze_received(payment)  # a receipt's money-received version, frozen now
    if announce:
        announce_completed(payment)
    return payment


def announce_completed(payment: Payment) -> None:
    """``payment.completed``: an incoming payment's money arrived (staff, a gateway, a
    group payment's part, a top-up). Paid-from-balance payments move no money: their
    invoice's ``invoice.paid`` tells it."""
    events.emit(
        EventType.PAYMENT_COMPLETED, account=payment.account_id, objects={"payment": payment}
    )


def mark_payment_paid(
    *,
    payment: Payment | int,
    method: str,
    actor: Actor,
    amount=None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Staff record that the money of a payment arrived (SPEC: Mark as paid).

    ``amount`` defaults to the payment's amount. Less opens a new waiting payment for
    the rest; more pays the invoice and leaves the surplus on the account as credit.
    """
    with transaction.atomic():
        account, locked = lock_payment(payment)
        return complete(
            locked,
            account,
            method=clean_method(method),
            amount=_paid_amount(locked, amount, account.currency),
            actor=actor,
            reference=reference,
            note=note,
            at=at,
        )


def complete_gateway_payment(
    *,
    payment: Payment | int,
    actor: Actor,
    amount=None,
    reference: str = "",
    at: datetime | None = None,
) -> Payment:
    """A gateway confirmed the money of a ``processing`` payment: complete it, assign it
    to its invoice (what it still owes) and post ``PAYM`` (SPEC section 5)."""
    with transaction.atomic():
        account, locked = lock_payment(payment)
        paid = locked.amount if amount is None else to_money(amount, account.currency)
        return complete(
            locked,
            account,
            method=locked.method,
            amount=paid,
            actor=actor,
            reference=reference,
            note="",
            at=at,
            name="complete_from_gateway",
        )


def mark_invoice_paid(
    *,
    invoice: Invoice | int,
    method: str,
    actor: Actor,
    amount=None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Mark an invoice as paid: complete its waiting payment (opening one if it has
    none, e.g. after a dispute or an expiry was cancelled) and post ``PAYM``."""
    method = clean_method(method)
    with transaction.atomic():
        account, locked_invoice = ledger.lock_invoice(invoice)
        require_payable(locked_invoice, field="status")
        payment = open_payment_for(locked_invoice)
        if payment is None:
            payment = open_waiting_payment(locked_invoice, account, actor, at=at)
        elif payment.status == S.PENDING_BILLING:
            raise refuse(payment, "mark_paid", "the ERP has not approved the invoice yet")
        return complete(
            payment,
            account,
            method=method,
            amount=_paid_amount(payment, amount, account.currency),
            actor=actor,
            reference=reference,
            note=note,
            at=at,
        )


def record_payment(
    *,
    account: Account | int,
    amount,
    method: str,
    actor: Actor,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Money received without an invoice: a completed ``top_up`` payment whose
    ``PAYM`` credit stays on the account until assigned (SPEC section 5)."""
    method = clean_method(method)
    with transaction.atomic():
        account_id = account.pk if isinstance(account, Account) else account
        locked = ledger.lock_account(account_id)
        money = to_money(amount, locked.currency)
        payment = create_payment(
            account=locked, type=PaymentType.TOP_UP, amount=money, actor=actor, at=at
        )
        return complete(
            payment,
            locked,
            method=method,
            amount=money,
            actor=actor,
            reference=reference,
            note=note,
            at=at,
        )
