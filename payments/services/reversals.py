"""Money going back: refunds (whole or part) and disputes (chargebacks), SPEC 3 and 5.

A refund is an outgoing payment linked to the original. For the part of the original
that paid an invoice it posts ``INVC`` −x and ``PAYM`` −x (the invoice is reduced and
the money leaves); for the part that was account credit it posts ``PAYM`` −x only.
A dispute is an outgoing payment that offsets the original with ``PAYM`` −x: the
invoice goes to ``disputed`` and is owed again, with a new payment waiting for it.
"""

from django.db import transaction
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
from .settlement import open_waiting_payment, sync_open_payment

S = PaymentStatus


def _plan(payment: Payment, amount: Money, invoice_id: int | None):
    """Split ``amount`` into (unallocated part, [(allocation, part), ...]).

    Unallocated credit goes back first, then the allocations newest first; with
    ``invoice_id`` only that invoice's allocations are used.
    """
    left = amount
    free = payment.amount - payment.amount_allocated - payment.amount_reversed
    from_credit = Money(0, amount.currency)
    if invoice_id is None and free.amount > 0:
        from_credit = min(free, left)
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


def _reverse(
    *,
    payment: Payment | int,
    amount,
    actor: Actor,
    reason: str,
    kind: str,
    invoice_id: int | None = None,
    at=None,
) -> Payment:
    with transaction.atomic():
        account, unlocked = lock_payment(payment)
        invoice_ids = sorted(
            set(
                PaymentAllocation.objects.filter(payment=unlocked).values_list(
                    "invoice_id", flat=True
                )
            )
        )
        invoices = {i: ledger.lock_invoice(i)[1] for i in invoice_ids}
        original = Payment.objects.select_for_update(no_key=True).get(pk=unlocked.pk)
        verb = "refund" if kind == "refund" else "dispute"
        if original.direction != "incoming" or original.status != S.COMPLETED:
            raise StateConflict(
                f"Payment {original.number} is {original.status}"
                f"{' (outgoing)' if original.direction != 'incoming' else ''}: only completed "
                f"incoming payments can be {'refunded' if kind == 'refund' else 'disputed'}.",
                field="status",
            )
        if original.reversible.amount <= 0:
            raise StateConflict(
                f"Payment {original.number} was already fully refunded or disputed.",
                field="amount",
            )
        money = original.reversible if amount is None else to_money(amount, account.currency)
        if money.amount <= 0:
            raise InvalidInput("amount: must be positive.", field="amount")
        if money > original.reversible:
            raise StateConflict(
                f"Payment {original.number}: cannot {verb} {format_money(money)}; only "
                f"{format_money(original.reversible)} of {format_money(original.amount)} "
                f"is left to {verb}.",
                field="amount",
            )
        if original.wallet_id:
            return _reverse_top_up(original, account, money, actor, reason, kind, at)
        from_credit, parts, left = _plan(original, money, invoice_id)
        if left.amount > 0:
            raise StateConflict(
                f"Payment {original.number}: only {format_money(money - left)} of it paid "
                f"invoice {invoices.get(invoice_id) or invoice_id}; "
                f"cannot {verb} {format_money(money)}.",
                field="amount",
            )
        # A refund may only return credit that is still free; a chargeback is the bank's
        # decision and is recorded whatever it leaves on the account.
        if kind == "refund" and from_credit.amount > 0 and from_credit > free_credit(account):
            raise StateConflict(
                f"Payment {original.number}: {format_money(from_credit)} of it was account credit "
                f"that has been used since; only {format_money(free_credit(account))} is free.",
                field="amount",
            )
        # A refund of a gateway payment goes back through the gateway: it is decided
        # (and posted) now, and stays processing until the gateway confirms it.
        via_gateway = kind == "refund" and bool(original.gateway)
        reversal = create_payment(
            account=account,
            type=original.type,
            amount=money,
            actor=actor,
            status=S.PROCESSING if via_gateway else S.COMPLETED,
            method=original.method,
            direction="outgoing",
            invoice=original.invoice,
            reason=reason or kind,
            at=at,
            completed_at=None if via_gateway else (at or timezone.now()),
            note=(reason or "")[:255],
            **({"refund_of": original} if kind == "refund" else {"dispute_of": original}),
        )
        if via_gateway:
            send_gateway_refund(reversal, original)
        original.amount_reversed += money
        original.amount_allocated -= sum((p for _a, p in parts), Money(0, account.currency))
        original.save(update_fields=["amount_reversed", "amount_allocated", "currency"])

        postings = []
        touched: list[Invoice] = []
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
            if kind == "refund":
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
                Posting(
                    kind=EntryKind.PAYMENT,
                    amount=-part,
                    reference=reversal.reference_code,
                    description=f"{'Refund' if kind == 'refund' else 'Dispute'} of payment "
                    f"{original.number} (invoice {invoice.number})",
                    invoice=invoice,
                    source=reversal,
                    method=original.method,
                )
            )
            if invoice not in touched:
                touched.append(invoice)
        if from_credit.amount > 0:
            postings.append(
                Posting(
                    kind=EntryKind.PAYMENT,
                    amount=-from_credit,
                    reference=reversal.reference_code,
                    description=f"{'Refund' if kind == 'refund' else 'Dispute'} of payment "
                    f"{original.number} (account credit)",
                    source=reversal,
                    method=original.method,
                )
            )
        ledger.post(account=account, postings=postings, actor=actor, at=at)
        for invoice in touched:
            if kind == "dispute":
                # Owed again: a new payment waits for it (the ERP approved it before).
                sync_open_payment(invoice, actor, reason="dispute")
                if invoice.amount_due.amount > 0 and not _has_open_payment(invoice):
                    open_waiting_payment(invoice, account, actor, at=at, reason="owed again")
            else:
                sync_open_payment(invoice, actor, reason=f"refund {reversal.number}")
        return reversal


def _reverse_top_up(
    original: Payment, account: Account, money: Money, actor: Actor, reason: str, kind: str, at
) -> Payment:
    """A top-up that credited a wallet: the money comes back out of the wallet.

    A refund needs it still available there (else InsufficientFunds, nothing changes).
    A chargeback takes what is available and leaves the rest owed on the account's
    ledger (``PAYM`` −rest): the bank took the money back whatever was spent.
    """
    wallet = wallets.lock_wallet(original.wallet_id)
    zero = Money(0, account.currency)
    from_wallet = money if kind == "refund" else min(money, max(wallet.available, zero))
    reversal = create_payment(
        account=account,
        type=original.type,
        amount=money,
        actor=actor,
        status=S.COMPLETED,
        method=original.method,
        direction="outgoing",
        wallet_id=original.wallet_id,
        reason=reason or kind,
        at=at,
        completed_at=at or timezone.now(),
        note=(reason or "")[:255],
        **({"refund_of": original} if kind == "refund" else {"dispute_of": original}),
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


def _has_open_payment(invoice: Invoice) -> bool:
    return open_payment_for(invoice) is not None


def refund_payment(
    *, payment: Payment | int, actor: Actor, amount=None, reason: str = "", at=None
) -> Payment:
    """Refund a completed payment, whole (default) or in part; returns the refund."""
    return _reverse(
        payment=payment, amount=amount, actor=actor, reason=reason, kind="refund", at=at
    )


def record_dispute(
    *, payment: Payment | int, actor: Actor, amount=None, reason: str = "", at=None
) -> Payment:
    """Record a chargeback on a completed payment; returns the offsetting payment."""
    return _reverse(
        payment=payment, amount=amount, actor=actor, reason=reason, kind="dispute", at=at
    )


def refund_invoice(
    *, invoice: Invoice | int, actor: Actor, amount=None, reason: str = "", at=None
) -> list[Payment]:
    """Refund money paid on an invoice (default: all of it), newest payments first."""
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else int(invoice)
    with transaction.atomic():
        account, locked = ledger.lock_invoice(invoice_id)
        paid = locked.amount_paid
        money = paid if amount is None else to_money(amount, account.currency)
        if money.amount <= 0:
            raise StateConflict(
                f"Invoice {locked}: nothing was paid on it that could be refunded.",
                field="amount",
            )
        if money > paid:
            raise StateConflict(
                f"Invoice {locked}: cannot refund {format_money(money)}; "
                f"{format_money(paid)} was paid on it.",
                field="amount",
            )
        refunds = []
        left = money
        payments = (
            Payment.objects.filter(
                allocations__invoice_id=invoice_id,
                allocations__amount__gt=0,
                status=S.COMPLETED,
                direction="incoming",
            )
            .distinct()
            .order_by("-completed_at", "-id")
        )
        for payment in payments:
            if left.amount <= 0:
                break
            net = sum(
                (
                    a.amount
                    for a in PaymentAllocation.objects.filter(
                        payment=payment, invoice_id=invoice_id
                    )
                ),
                Money(0, account.currency),
            )
            part = min(net, left, payment.reversible)
            if part.amount > 0:
                refunds.append(
                    _reverse(
                        payment=payment,
                        amount=part,
                        actor=actor,
                        reason=reason,
                        kind="refund",
                        invoice_id=invoice_id,
                        at=at,
                    )
                )
                left -= part
        if left.amount > 0:
            raise StateConflict(
                f"Invoice {locked}: {format_money(left)} of it was paid from the account "
                "balance and cannot be refunded as money.",
                field="amount",
            )
        return refunds
