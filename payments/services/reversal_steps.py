"""The steps shared by refunds, disputes and direct-debit returns (``reversals``):
lock, check the amount, plan which money goes back, open the outgoing payment, then
``carry_out``: reverse the allocations and settle the invoices, post, and bring each
invoice's waiting payment in step. ``Reversal`` says which one is running. A refund
through a gateway is planned now and carried out when the gateway confirms it
(``gateway_refunds``).
"""

from enum import StrEnum

from django.utils import timezone
from moneyed import Money

from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, EntryKind, Invoice
from ledger.money import format_money, to_money
from ledger.selectors import free_credit
from ledger.services import Actor, Posting
from wallets import services as wallets

from ..models import Payment, PaymentAllocation, PaymentStatus
from .common import create_payment, lock_payment, open_payment_for
from .credit_notes import credit_refund
from .waiting import open_waiting_payment, sync_open_payment

S = PaymentStatus


class Reversal(StrEnum):
    """Which way money goes back: a refund we decide, a dispute (chargeback) the bank
    decided, or a direct-debit return (the bank could not collect)."""

    REFUND = "refund"
    DISPUTE = "dispute"
    RETURN = "return"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def done(self) -> str:
        return {"refund": "refunded", "dispute": "disputed", "return": "returned"}[self.value]

    @property
    def link_field(self) -> str:
        """The outgoing payment's link to the original: ``refund_of`` / ``dispute_of`` /
        ``return_of``."""
        return f"{self.value}_of"

    def describe(self, original: Payment, what: str, reason: str = "") -> str:
        """The ledger description of the money going back."""
        if self is Reversal.RETURN:
            why = reason.removeprefix("Direct debit returned: ") or "returned by the bank"
            return f"Direct debit returned: {why} (payment {original.number}, {what})"
        return f"{self.label} of payment {original.number} ({what})"


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


def reserved_parts(payment: Payment) -> dict[int, Money]:
    """What refunds still processing at the gateway reserved of each allocation of the
    payment (their plan, taken at decision and posted when the gateway confirms)."""
    from .gateway_refunds import pending_plans

    reserved: dict[int, Money] = {}
    for _refund, plan_ in pending_plans(payment):
        for allocation_id, _invoice_id, part in plan_.parts:
            reserved[allocation_id] = reserved.get(allocation_id, Money(0, part.currency)) + part
    return reserved


def plan(payment: Payment, amount: Money, invoice_id: int | None):
    """Split ``amount`` into (unallocated part, [(allocation, part), ...], not covered).

    Unallocated credit goes back first, then the allocations newest first; with
    ``invoice_id`` only that invoice's allocations are used. What refunds still at the
    gateway reserved is not planned again.
    """
    left = amount
    from_credit = Money(0, amount.currency)
    if invoice_id is None and payment.unallocated.amount > 0:
        from_credit = min(payment.unallocated, left)
        left -= from_credit
    parts = []
    reserved = reserved_parts(payment)
    allocations = PaymentAllocation.objects.filter(payment=payment, reversal_of__isnull=True)
    if invoice_id is not None:
        allocations = allocations.filter(invoice_id=invoice_id)
    for allocation in allocations.order_by("-id"):
        if left.amount <= 0:
            break
        reversed_already = sum(
            (-r.amount for r in allocation.reversals.all()), Money(0, amount.currency)
        )
        remaining = (
            allocation.amount
            - reversed_already
            - reserved.get(allocation.pk, Money(0, amount.currency))
        )
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
    """The outgoing payment, completed: money given back by hand, or taken back by the
    bank. (A refund of a gateway payment is ``gateway_refunds.request_refund``.)"""
    return create_payment(
        account=account,
        type=original.type,
        amount=money,
        actor=actor,
        status=S.COMPLETED,
        method=original.method,
        direction="outgoing",
        invoice=original.invoice,
        reason=reason or kind.value,
        at=at,
        completed_at=at or timezone.now(),
        note=(reason or "")[:255],
        **{kind.link_field: original},
    )


def carry_out(
    original, reversal, account, money, from_credit, parts, invoices, kind, reason, actor, at
):
    """Give the money back on the books: the original's figures, a negative allocation
    per part, the ``INVC`` / ``PAYM`` entries, and each invoice's waiting payment."""
    original.amount_reversed += money
    original.amount_allocated -= sum((p for _a, p in parts), Money(0, account.currency))
    original.save(update_fields=["amount_reversed", "amount_allocated", "currency"])
    postings, touched = reverse_allocations(
        original, reversal, parts, invoices, account, kind, reason, actor, at
    )
    if from_credit.amount > 0:
        postings.append(
            money_back(original, reversal, from_credit, kind, "account credit", reason=reason)
        )
    entries = ledger.post(account=account, postings=postings, actor=actor, at=at)
    follow_up(touched, kind, reversal, account, actor, at)
    if kind is Reversal.REFUND:  # a credit note per invoice refunded (SPEC section 3)
        credit_refund(reversal, entries, actor=actor, reason=reason)


def reverse_allocations(
    original, reversal, parts, invoices, account, kind: Reversal, reason, actor, at
) -> tuple[list[Posting], list[Invoice]]:
    """A negative allocation per part, the invoice settled back (refunded; disputed and
    owed again; or, for a direct-debit return, owed again as it was before: due or
    partially paid); returns the postings (``INVC`` − for a refund, ``PAYM`` −) and the
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
            ledger.settle_invoice(invoice=invoice, paid=-part, disputed=kind is Reversal.DISPUTE)
        postings.append(
            money_back(original, reversal, part, kind, f"invoice {invoice.number}", invoice, reason)
        )
        if invoice not in touched:
            touched.append(invoice)
    return postings, touched


def money_back(
    original, reversal, amount, kind: Reversal, what: str, invoice=None, reason=""
) -> Posting:
    """The ``PAYM`` −x of money leaving (or taken back, or never collected, by the bank)."""
    return Posting(
        kind=EntryKind.PAYMENT,
        amount=-amount,
        reference=reversal.reference_code,
        description=kind.describe(original, what, reason),
        invoice=invoice,
        source=reversal,
        method=original.method,
    )


def follow_up(touched: list[Invoice], kind: Reversal, reversal, account, actor, at) -> None:
    """Bring each touched invoice's waiting payment in step. A disputed or returned
    invoice is owed again: a new payment waits for it (payable at once: the ERP approved
    it before)."""
    for invoice in touched:
        if kind is not Reversal.REFUND:
            why = "direct debit returned" if kind is Reversal.RETURN else "dispute"
            sync_open_payment(invoice, actor, reason=why)
            if invoice.amount_due.amount > 0 and open_payment_for(invoice) is None:
                open_waiting_payment(invoice, account, actor, at=at, reason=f"owed again: {why}")
        else:
            sync_open_payment(invoice, actor, reason=f"refund {reversal.number}")


def reverse_top_up(
    original: Payment, account: Account, money: Money, actor: Actor, reason: str, kind, at
) -> Payment:
    """A top-up that credited a wallet: the money comes back out of the wallet.

    A refund needs it still available there (else InsufficientFunds, nothing changes).
    A chargeback or a direct-debit return takes what is available and leaves the rest
    owed on the account's ledger (``PAYM`` −rest): the bank took the money back (or
    never collected it) whatever was spent.
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
                    description=_top_up_rest(original, rest, kind, reason),
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


def _top_up_rest(original: Payment, rest: Money, kind: Reversal, reason: str) -> str:
    spent = f"{format_money(rest)} of it was already spent"
    if kind is Reversal.RETURN:
        return kind.describe(original, f"wallet top-up: {spent}", reason)
    return f"Chargeback of wallet top-up {original.number}: {spent}"


# The event each reversal is announced by, once its money has moved (a refund through a
# gateway: when the gateway confirms it, ``gateway_refunds.confirm_refund``). A returned
# direct debit is a failed collection: ``payment.failed``, like a gateway's decline.
REVERSAL_EVENTS = {
    Reversal.REFUND: EventType.PAYMENT_REFUNDED,
    Reversal.DISPUTE: EventType.PAYMENT_DISPUTED,
    Reversal.RETURN: EventType.PAYMENT_FAILED,
}


def announce_reversal(original: Payment, reversal: Payment, kind: Reversal) -> None:
    """``payment.refunded`` / ``disputed`` / ``failed``: the original payment (with what
    is reversed of it) and the outgoing payment, under ``refund`` / ``dispute`` /
    ``return``."""
    events.emit(
        REVERSAL_EVENTS[kind],
        account=original.account_id,
        objects={"payment": original, kind.value: reversal},
    )
