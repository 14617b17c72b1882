"""Issuing an invoice, the use case that spans the three apps (SPEC section 3 worked
example): the ledger posts ``INVC``, wallet holds become prepayment credit memos, the
account's credit pays what it can, and a payment waits for the rest."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from moneyed import Money

from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.models import Account, Invoice
from ledger.services import Actor
from wallets import services as wallets

from ..models import Payment, PaymentMethod, PaymentStatus
from .common import create_payment
from .credit import settle_from_balance
from .waiting import open_waiting_payment, payment_type_for

S = PaymentStatus


def _apply_credit_at_issue(
    invoice: Invoice, account: Account, actor: Actor, at: datetime | None
) -> Payment | None:
    """The account's credit pays what it can of the new invoice: a ``paid_from_balance``
    payment with its ``PAYM`` / ``CRED`` pair (None when there is no credit)."""
    # The balance already carries the invoice's INVC debit and its CRMO credits: what
    # the account had in credit before is the balance without them.
    credit_before = account.balance + invoice.total - invoice.amount_credited
    applied = min(credit_before.amount, invoice.amount_due.amount)
    if applied <= 0:
        return None
    payment = create_payment(
        account=account,
        type=payment_type_for(invoice),
        amount=Money(applied, account.currency),
        actor=actor,
        status=S.PAID_FROM_BALANCE,
        method=PaymentMethod.ACCOUNT_BALANCE,
        invoice=invoice,
        due_date=invoice.due_date,
        completed_at=at or timezone.now(),
        reason="credit applied at issue",
        at=at,
    )
    settle_from_balance(payment, account, invoice=invoice, actor=actor, at=at)
    return payment


def issue_invoice(
    *,
    invoice: Invoice | int,
    actor: Actor,
    at: datetime | None = None,
    due_date=None,
) -> Invoice:
    """Issue an invoice: post ``INVC``, apply the account's credit, open the payment
    that waits for the rest. One transaction (SPEC section 3 worked example)."""
    with transaction.atomic():
        invoice, _entries = ledger.post_invoice(
            invoice=invoice, actor=actor, at=at, due_date=due_date
        )
        # Announced as it is issued, before the holds and credit that may pay it
        # (their credit_memo.created and invoice.paid follow, in that order).
        events.emit(
            EventType.INVOICE_ISSUED, account=invoice.account_id, objects={"invoice": invoice}
        )
        # Wallet holds reserved for the invoice become prepayment credit memos first.
        wallets.capture_holds(invoice=invoice, actor=actor, at=at)
        account = ledger.lock_account(invoice.account_id)
        invoice.refresh_from_db()
        _apply_credit_at_issue(invoice, account, actor, at)
        open_waiting_payment(invoice, account, actor, at=at, reason="invoice issued")
        invoice.refresh_from_db()
        return invoice
