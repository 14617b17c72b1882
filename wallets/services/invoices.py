"""Wallet money on invoices: prepayment credit memos on issued invoices, holds on
ongoing ones that follow consumption, capture at issue, release at cancellation.

Lock order (``ledger.locks``): account, invoice, wallet(s) in id order, then each
wallet's hold.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from moneyed import Money

from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.locks import lock_row
from ledger.models import EntryKind, Invoice, InvoiceLine, InvoiceStatus
from ledger.models.invoices import WALLET_PAYABLE
from ledger.money import format_money
from ledger.services import Actor, Posting

from ..models import CreditMemo, Hold, HoldStatus, TxKind, Wallet
from .core import insufficient, lock_wallet, positive, record, require_active


def _same_account(wallet: Wallet, invoice: Invoice) -> None:
    if wallet.account_id != invoice.account_id:
        raise InvalidInput(
            f"wallet: '{wallet.name}' belongs to another account than invoice {invoice}.",
            field="wallet",
        )


def _lock_active_holds(invoice: Invoice):
    """Yield ``(wallet, hold)`` for each active hold of the invoice, both locked, in
    wallet id order (the caller holds the invoice lock)."""
    holds = Hold.objects.filter(invoice=invoice, status=HoldStatus.ACTIVE)
    for wallet_id, hold_id in holds.order_by("wallet_id", "id").values_list("wallet_id", "pk"):
        wallet = lock_wallet(wallet_id)
        yield wallet, lock_row(Hold, hold_id)


def capture_movement(invoice, line, part, *, kind, hold, at) -> dict:
    """How consuming ``part`` for one line moves the wallet: ``record``'s (and
    ``movement_row``'s) keyword arguments beside ``(wallet, kind, part, actor)``."""
    return {
        "consumed": part,
        "held": -part if kind == TxKind.HOLD_CAPTURE else None,
        "reference": invoice.number or "",
        "description": f"Invoice {invoice.number}: {line.description}",
        "invoice": invoice,
        "hold": hold,
        "at": at,
    }


def memo_row(wallet, invoice, line, part, tx, number: str, actor, at) -> CreditMemo:
    """The approved prepayment credit memo of one line's part, unsaved."""
    return CreditMemo(
        number=number,
        account_id=invoice.account_id,
        invoice=invoice,
        invoice_line=line,
        wallet=wallet,
        drawdown=tx,
        reason="prepayment",
        status="approved",
        currency=invoice.currency,
        amount=part,
        created_at=at or timezone.now(),
        actor_label=actor.label[:150],
    )


def memo_posting(wallet, invoice, line, memo) -> Posting:
    """The memo's ``CRMO`` credit on the account's ledger."""
    return Posting(
        kind=EntryKind.CREDIT_MEMO,
        amount=memo.amount,
        reference=memo.reference,
        description=f"Prepayment from wallet '{wallet.name}': invoice {invoice.number}, "
        f"{line.description}",
        invoice=invoice,
        source=memo,
    )


def line_split(lines, amount: Money) -> list[tuple[InvoiceLine, Money]]:
    """``amount`` spread over the lines in order, each up to what it still owes; raises
    when the lines cannot take it all (callers cap at the amount due)."""
    parts, left = [], amount
    for line in lines:
        if left.amount <= 0:
            break
        part = min(line.amount - line.prepaid_amount, left)
        if part.amount <= 0:
            continue
        parts.append((line, part))
        left -= part
    if left.amount > 0:  # pragma: no cover - callers cap at the amount due
        raise StateConflict(f"Invoice {lines[0].invoice_id}: its lines cannot take more.")
    return parts


def _prepay_line(wallet, invoice, line, part, actor, *, kind, hold, at) -> tuple:
    """Consume ``part`` of the locked wallet for one line of the locked invoice: the
    drawdown (or capture), its approved prepayment credit memo, and the ``CRMO``
    posting to make. Returns ``(memo, posting)``."""
    movement = capture_movement(invoice, line, part, kind=kind, hold=hold, at=at)
    tx = record(wallet, kind, part, actor, **movement)
    _seq, number = ledger.next_number("CM")
    memo = memo_row(wallet, invoice, line, part, tx, number, actor, at)
    memo.save()
    line.prepaid_amount += part
    line.save(update_fields=["prepaid_amount", "currency"])
    return memo, memo_posting(wallet, invoice, line, memo)


def _prepay_lines(
    wallet: Wallet,
    invoice: Invoice,
    amount: Money,
    actor: Actor,
    *,
    kind: str,
    hold: Hold | None = None,
    at: datetime | None = None,
) -> list[CreditMemo]:
    """Consume ``amount`` of the locked wallet for the locked invoice, line by line:
    one drawdown, one approved prepayment credit memo and one ``CRMO`` entry per line."""
    memos, postings = [], []
    lines = list(
        InvoiceLine.objects.select_for_update(no_key=True)
        .filter(invoice=invoice)
        .order_by("position", "id")
    )
    for line, part in line_split(lines, amount):
        memo, posting = _prepay_line(
            wallet, invoice, line, part, actor, kind=kind, hold=hold, at=at
        )
        memos.append(memo)
        postings.append(posting)
    ledger.post(account=invoice.account_id, postings=postings, actor=actor, at=at)
    for memo in memos:
        events.emit(
            EventType.CREDIT_MEMO_CREATED, account=invoice.account_id, objects={"credit_memo": memo}
        )
    ledger.settle_invoice(invoice=invoice, credited=amount)
    return memos


def apply_to_invoice(
    *,
    wallet: Wallet | int,
    invoice: Invoice | int,
    actor: Actor,
    amount=None,
    at: datetime | None = None,
):
    """Spend wallet money on an invoice chosen by staff or an integration.

    Issued (due, partially paid, disputed): a drawdown now, default the lesser of
    what is due and what is available; returns the credit memos. Ongoing: a hold for
    the invoice's current amount (or ``amount`` as a cap), which then follows the
    invoice; returns the hold.
    """
    with transaction.atomic():
        _account, locked_invoice = ledger.lock_invoice(invoice)
        locked = lock_wallet(wallet)
        require_active(locked)
        _same_account(locked, locked_invoice)
        if locked_invoice.status not in WALLET_PAYABLE:
            raise StateConflict(
                f"Invoice {locked_invoice} is {locked_invoice.get_status_display().lower()}: "
                "wallet money can be applied to ongoing, due or partially paid invoices.",
                field="invoice",
            )
        if locked_invoice.status == InvoiceStatus.ONGOING:
            return _hold(locked, locked_invoice, amount, actor, at)
        due = locked_invoice.amount_due
        if amount is None:
            money = min(due, locked.available)
            if money.amount <= 0:
                raise insufficient(locked, "prepayment", due)
        else:
            money = positive(amount, locked.currency)
        if money > due:
            raise InvalidInput(
                f"amount: {format_money(money)} is more than the {format_money(due)} due on "
                f"invoice {locked_invoice}.",
                field="amount",
            )
        if money > locked.available:
            raise insufficient(locked, "prepayment", money)
        return _prepay_lines(locked, locked_invoice, money, actor, kind=TxKind.DRAWDOWN, at=at)


def _hold(wallet: Wallet, invoice: Invoice, cap, actor: Actor, at) -> Hold:
    """Reserve wallet money for an ongoing invoice (or change the cap of its hold)."""
    requested = positive(cap, wallet.currency) if cap is not None else None
    hold = Hold.objects.filter(wallet=wallet, invoice=invoice, status=HoldStatus.ACTIVE).first()
    if hold is None:
        if wallet.available.amount <= 0:
            raise insufficient(wallet, "hold", requested or invoice.total)
        hold = Hold.objects.create(
            wallet=wallet,
            invoice=invoice,
            account_id=invoice.account_id,
            currency=wallet.currency,
            amount=Money(0, wallet.currency),
            requested=requested,
        )
    else:
        hold.requested = requested
        hold.save(update_fields=["requested", "currency"])
    _follow(invoice, actor, at=at)
    hold.refresh_from_db()
    return hold


def _follow(invoice: Invoice, actor: Actor, *, at=None) -> None:
    """Resize the invoice's active holds to its current amount: each up to its cap and
    to what its wallet has available, never below zero (the caller holds the invoice)."""
    remaining = invoice.total - invoice.amount_credited
    zero = Money(0, invoice.currency)
    for wallet, hold in _lock_active_holds(invoice):
        cap = remaining if hold.requested is None else min(remaining, hold.requested)
        target = max(zero, min(cap, hold.amount + wallet.available))
        delta = target - hold.amount
        if delta.amount != 0:
            starting = hold.amount.amount == 0 and delta.amount > 0
            record(
                wallet,
                TxKind.HOLD if starting else TxKind.HOLD_CHANGE,
                abs(delta),
                actor,
                held=delta,
                reference=str(invoice),
                description=(
                    f"Hold for ongoing invoice {invoice}"
                    if starting
                    else f"Hold {'raised' if delta.amount > 0 else 'lowered'} to "
                    f"{format_money(target)}: invoice {invoice} now {format_money(invoice.total)}"
                ),
                invoice=invoice,
                hold=hold,
                at=at,
            )
            hold.amount = target
            hold.save(update_fields=["amount", "currency"])
        remaining = max(zero, remaining - hold.amount)


def follow_invoice(*, invoice: Invoice | int, actor: Actor, at=None) -> None:
    """Make the holds of an ongoing invoice follow its amount (after consumption)."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        if locked.status == InvoiceStatus.ONGOING:
            _follow(locked, actor, at=at)


def update_ongoing_line(*, line: InvoiceLine | int, actor: Actor, **changes) -> InvoiceLine:
    """Consumption: change a line of an ongoing invoice; its holds follow the total."""
    with transaction.atomic():
        updated = ledger.update_line(line=line, actor=actor, **changes)
        follow_invoice(invoice=updated.invoice_id, actor=actor)
        return updated


def add_ongoing_line(*, invoice: Invoice | int, line, actor: Actor) -> InvoiceLine:
    """Consumption: add a line to a draft or ongoing invoice; its holds follow."""
    with transaction.atomic():
        added = ledger.add_line(invoice=invoice, line=line, actor=actor)
        follow_invoice(invoice=added.invoice_id, actor=actor)
        return added


def remove_ongoing_line(*, line: InvoiceLine | int, actor: Actor) -> None:
    """Remove a line of a draft or ongoing invoice; its holds follow (shrink)."""
    line_id = line.pk if isinstance(line, InvoiceLine) else int(line)
    invoice_id = InvoiceLine.objects.values_list("invoice_id", flat=True).get(pk=line_id)
    with transaction.atomic():
        ledger.remove_line(line=line_id, actor=actor)
        follow_invoice(invoice=invoice_id, actor=actor)


def _release(wallet, hold, invoice, amount: Money, actor: Actor, *, why: str, at=None) -> None:
    """Give ``amount`` of the locked hold back to its locked wallet: the one way held
    money returns (cancellation, staff, what a capture does not need). Nothing is
    recorded for nothing."""
    if amount.amount > 0:
        record(
            wallet,
            TxKind.HOLD_RELEASE,
            amount,
            actor,
            held=-amount,
            reference=str(invoice),
            description=why,
            invoice=invoice,
            hold=hold,
            at=at,
        )


def _close(hold: Hold, status: str, at=None) -> None:
    hold.status = status
    hold.closed_at = at or timezone.now()
    hold.save(update_fields=["status", "closed_at"])


def capture_holds(*, invoice: Invoice, actor: Actor, at=None) -> list[CreditMemo]:
    """At issue: each active hold becomes a drawdown + credit memo for what it covers
    (at most what is due), and anything held beyond that is released."""
    memos = []
    for wallet, hold in _lock_active_holds(invoice):
        take = min(hold.amount, invoice.amount_due)
        why = f"Hold released beyond invoice {invoice}"
        _release(wallet, hold, invoice, hold.amount - take, actor, why=why, at=at)
        if take.amount > 0:
            memos += _prepay_lines(
                wallet, invoice, take, actor, kind=TxKind.HOLD_CAPTURE, hold=hold, at=at
            )
        _close(hold, HoldStatus.CAPTURED, at)
    return memos


def release_holds(*, invoice: Invoice, actor: Actor, reason: str = "", at=None) -> None:
    """At cancellation: give every active hold of the invoice back to its wallet."""
    for wallet, hold in _lock_active_holds(invoice):
        why = f"Hold released: invoice {invoice} {reason or 'cancelled'}"
        _release(wallet, hold, invoice, hold.amount, actor, why=why, at=at)
        _close(hold, HoldStatus.RELEASED, at)


def release_hold(*, hold: Hold | int, actor: Actor) -> Hold:
    """Staff release one hold of an ongoing invoice."""
    hold_id = hold.pk if isinstance(hold, Hold) else int(hold)
    invoice_id, wallet_id = Hold.objects.values_list("invoice_id", "wallet_id").get(pk=hold_id)
    with transaction.atomic():
        _account, invoice = ledger.lock_invoice(invoice_id)
        wallet = lock_wallet(wallet_id)
        locked = lock_row(Hold, hold_id)
        if locked.status != HoldStatus.ACTIVE:
            raise StateConflict(f"Hold {locked.pk} is {locked.status}.", field="hold")
        why = f"Hold released by staff: invoice {invoice}"
        _release(wallet, locked, invoice, locked.amount, actor, why=why)
        _close(locked, HoldStatus.RELEASED)
        return locked
