"""The steps shared by refunds and disputes (``reversals``): lock, check the amount,
plan which money goes back, open the outgoing payment (through the gateway for a
gateway refund), reverse the allocations and settle the invoices, post, and bring each
invoice's waiting payment in step. ``Reversal`` says which of the two is running.
"""

from enum import StrEnum

from django.utils import timezone
from moneyed import Money

from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, EntryKind, Invoice
from ledger.money import format_money, to_money
from ledger.selectors import free_credit
from ledger.services import Actor, Posting
from wallets import services as wallets

from ..models import Payment, PaymentAllocation, PaymentStatus
from .common import create_payment, lock_payment, open_payment_for
from .gateway_flows import send_gateway_refund
from .waiting import open_waiting_payment, sync_open_payment

S = PaymentStatus


class Reversal(StrEnum):
    """Which way money goes back: a refund we decide, or a dispute the bank decided."""

    REFUND = "refund"
    DISPUTE = "dispute"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def done(self) -> str:
        return {"refund": "refunded", "dispute": "disputed"}[self.value]

    @property
    def link_field(self) -> str:
        """The outgoing payment's link to the original: ``refund_of`` / ``dispute_of``."""
        return f"{self.value}_of"


def lock_for_reversal(payment: Payment | int) -> tuple[Account, Payment, dict[int, Invoice]]:
    """Lock the account, every invoice the payment paid (id order), then the payment."""
    account, unlocked = lock_payment(payment)
    invoice_ids = sorted(
        set(PaymentAllocation.objects.filter(payment=unlocked).values_list("invoice_id", flat=True))
    )
    invoices = {i: ledger.lock_invoice(i)[1] for i in invoice_ids}
    original = Payment.objects.select_for_update(no_key=True).get(pk=unlocked.pk)
    return account, original, invoices


def amount_to_reverse(original: Payment, amount, currency: str, kind: Reversal) -> Money:
    """The money to give back (default: all that is left), refused beyond what is left."""
    if original.direction != "incoming" or original.status != S.COMPLETED:
        raise StateConflict(
            f"Payment {original.number} is {original.status}"
            f"{' (outgoing)' if original.direction != 'incoming' else ''}: only completed "
            f"incoming payments can be {kind.done}.",
            field="status",
        )
    if original.reversible.amount <= 0:
        raise StateConflict(
            f"Payment {original.number} was already fully refunded or disputed.",
            field="amount",
        )
    money = original.reversible if amount is None else to_money(amount, currency)
    if money.amount <= 0:
        raise InvalidInput("amount: must be positive.", field="amount")
    if money > original.reversible:
        raise StateConflict(
            f"Payment {original.number}: cannot {kind} {format_money(money)}; only "
            f"{format_money(original.reversible)} of {format_money(original.amount)} "
            f"is left to {kind}.",
            field="amount",
        )
    return money


def plan(payment: Payment, amount: Money, invoice_id: int | None):
    """Split ``amount`` into (unallocated part, [(allocation, part), ...], not covered).

    Unallocated credit goes back first, then the allocations newest first; with
    ``invoice_id`` only that invoice's allocations are used.
    """
    left = amount
    from_credit = Money(0, amount.currency)
    if invoice_id is None and payment.unallocated.amount > 0:
        from_credit = min(payment.unallocated, left)
        left -= from_credit
    parts = []
    allocations = PaymentAllocation.objects.filter(payment=payment, reversal_of__isnull=True)
    if invoice_id is not None:
        allocations = allocations.filter(invoice_id=invoice_id)
    for allocation in allocations.order_by("-id"):
        if left.amount <= 0:
            break
        reversed_already = sum(
            (-r.amount for r in allocation.reversals.all()), Money(0, amount.currency)
        )
        remaining = allocation.amount - reversed_already
        if remaining.amount > 0:
            part = min(remaining, left)
            parts.append((allocation, part))
            left -= part
    return from_credit, parts, left


def check_plan(original, account, money, from_credit, left, invoice_label, kind) -> None:
    """The plan covers the amount; a refund only returns credit that is still free (a
    chargeback is the bank's decision and is recorded whatever it leaves)."""
    if left.amount > 0:
        raise StateConflict(
            f"Payment {original.number}: only {format_money(money - left)} of it paid "
            f"invoice {invoice_label}; cannot {kind} {format_money(money)}.",
            field="amount",
        )
    if kind is Reversal.REFUND and from_credit.amount > 0 and from_credit > free_credit(account):
        raise StateConflict(
            f"Payment {original.number}: {format_money(from_credit)} of it was account credit "
            f"that has been used since; only {format_money(free_credit(account))} is free.",
            field="amount",
        )


def open_reversal(original, account, money, kind: Reversal, actor, reason, at) -> Payment:
    """The outgoing payment. A refund of a gateway payment goes back through the
    gateway: it is decided (and posted) now, and stays processing until the gateway
    confirms it."""
    via_gateway = kind is Reversal.REFUND and bool(original.gateway)
    reversal = create_payment(
        account=account,
        type=original.type,
        amount=money,
        actor=actor,
        status=S.PROCESSING if via_gateway else S.COMPLETED,
        method=original.method,
        direction="outgoing",
        invoice=original.invoice,
        reason=reason or kind.value,
        at=at,
        completed_at=None if via_gateway else (at or timezone.now()),
        note=(reason or "")[:255],
        **{kind.link_field: original},
    )
    if via_gateway:
        send_gateway_refund(reversal, original)
    return reversal


def reverse_allocations(
    original, reversal, parts, invoices, account, kind: Reversal, reason, actor, at
) -> tuple[list[Posting], list[Invoice]]:
    """A negative allocation per part, the invoice settled back (refunded, or disputed
    and owed again); returns the postings (``INVC`` − for a refund, ``PAYM`` −) and the
    invoices touched."""
    postings, touched = [], []
    for allocation, part in parts:
        invoice = invoices[allocation.invoice_id]
        PaymentAllocation.objects.create(
            payment=original,
            invoice=invoice,
            account_id=account.pk,
            currency=account.currency,
            amount=-part,
            reversal_of=allocation,
            reversed_by=reversal,
            created_at=at or timezone.now(),
            actor_label=actor.label[:150],
        )
        if kind is Reversal.REFUND:
            ledger.settle_invoice(invoice=invoice, paid=-part, refunded=part)
            postings.append(
                Posting(
                    kind=EntryKind.INVOICE,
                    amount=-part,
                    reference=invoice.reference,
                    description=f"Invoice {invoice.number} refunded"
                    + (f": {reason}" if reason else ""),
                    invoice=invoice,
                    source=reversal,
                )
            )
        else:
            ledger.settle_invoice(invoice=invoice, paid=-part, disputed=True)
        postings.append(
            money_back(original, reversal, part, kind, f"invoice {invoice.number}", invoice)
        )
        if invoice not in touched:
            touched.append(invoice)
    return postings, touched


def money_back(original, reversal, amount, kind: Reversal, what: str, invoice=None) -> Posting:
    """The ``PAYM`` −x of money leaving (or taken back by the bank)."""
    return Posting(
        kind=EntryKind.PAYMENT,
        amount=-amount,
        reference=reversal.reference_code,
        description=f"{kind.label} of payment {original.number} ({what})",
        invoice=invoice,
        source=reversal,
        method=original.method,
    )


def follow_up(touched: list[Invoice], kind: Reversal, reversal, account, actor, at) -> None:
    """Bring each touched invoice's waiting payment in step. A disputed invoice is owed
    again: a new payment waits for it (payable at once: the ERP approved it before)."""
    for invoice in touched:
        if kind is Reversal.DISPUTE:
            sync_open_payment(invoice, actor, reason="dispute")
            if invoice.amount_due.amount > 0 and open_payment_for(invoice) is None:
                open_waiting_payment(invoice, account, actor, at=at, reason="owed again")
        else:
            sync_open_payment(invoice, actor, reason=f"refund {reversal.number}")


def reverse_top_up(
    original: Payment, account: Account, money: Money, actor: Actor, reason: str, kind, at
) -> Payment:
    """A top-up that credited a wallet: the money comes back out of the wallet.

    A refund needs it still available there (else InsufficientFunds, nothing changes).
    A chargeback takes what is available and leaves the rest owed on the account's
    ledger (``PAYM`` −rest): the bank took the money back whatever was spent.
    """
    wallet = wallets.lock_wallet(original.wallet_id)
    zero = Money(0, account.currency)
    from_wallet = money if kind is Reversal.REFUND else min(money, max(wallet.available, zero))
    reversal = create_payment(
        account=account,
        type=original.type,
        amount=money,
        actor=actor,
        status=S.COMPLETED,
        method=original.method,
        direction="outgoing",
        wallet_id=original.wallet_id,
        reason=reason or kind.value,
        at=at,
        completed_at=at or timezone.now(),
        note=(reason or "")[:255],
        **{kind.link_field: original},
    )
    if from_wallet.amount > 0:
        wallets.take_back(wallet=wallet, amount=from_wallet, actor=actor, source=reversal, at=at)
    rest = money - from_wallet
    if rest.amount > 0:
        ledger.post(
            account=account,
            postings=[
                Posting(
                    kind=EntryKind.PAYMENT,
                    amount=-rest,
                    reference=reversal.reference_code,
                    description=f"Chargeback of wallet top-up {original.number}: "
                    f"{format_money(rest)} of it was already spent",
                    source=reversal,
                    method=original.method,
                )
            ],
            actor=actor,
            at=at,
        )
    original.amount_reversed += money
    original.save(update_fields=["amount_reversed", "currency"])
    return reversal
