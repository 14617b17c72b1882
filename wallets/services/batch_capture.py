"""Capturing the wallet holds of many invoices issued together (the billing run's
batches, ``payments.services.batch_issue``): the movements, credit memos and ``CRMO``
postings ``capture_holds`` makes — built by the same functions, in memory — then
written with one insert or update per table.

The caller holds the invoices' accounts and the invoices, and locks the wallets, then
the holds, in id order (``lock``), before anything moves.
"""

from collections import defaultdict

from django.utils import timezone
from moneyed import Money

from ledger.bulk import update_rows
from ledger.models import Invoice, InvoiceLine
from ledger.services import Actor, Posting

from ..models import CreditMemo, Hold, HoldStatus, TxKind, Wallet, WalletTransaction
from . import alerts
from .core import movement_row
from .invoices import capture_movement, line_split, memo_posting, memo_row

WALLET_FIELDS = ["total", "consumed", "held", "last_seq", *alerts.FLAG_FIELDS]


def lock(invoice_ids: list[int]) -> dict[int, list[tuple[Wallet, Hold]]]:
    """Lock the active holds' wallets, then the holds, each in id order; return each
    invoice's ``(wallet, hold)`` pairs in wallet id order (as ``capture_holds`` takes
    them)."""
    pairs = list(
        Hold.objects.filter(invoice_id__in=invoice_ids, status=HoldStatus.ACTIVE).values_list(
            "wallet_id", "pk"
        )
    )
    if not pairs:
        return {}
    wallets = Wallet.objects.select_for_update(no_key=True).filter(
        pk__in=sorted({w for w, _h in pairs})
    )
    by_id = {wallet.pk: wallet for wallet in wallets.order_by("pk")}
    holds = Hold.objects.select_for_update(no_key=True).filter(pk__in=sorted(h for _w, h in pairs))
    found = defaultdict(list)
    for hold in holds.order_by("pk"):
        found[hold.invoice_id].append((by_id[hold.wallet_id], hold))
    for held in found.values():
        held.sort(key=lambda pair: (pair[0].pk, pair[1].pk))
    return found


def capturable(invoice: Invoice, held: list[tuple[Wallet, Hold]]) -> bool:
    """Whether the batch may capture these holds as they stand: together at most the
    invoice's total (nothing to release beyond it), each in the invoice's currency."""
    total = sum((hold.amount.amount for _w, hold in held), start=0)
    same = all(w.currency == invoice.currency == h.currency for w, h in held)
    return same and total <= invoice.amount_due.amount


class Captures:
    """Everything the batch's captures write, gathered in memory."""

    def __init__(self, actor: Actor):
        self.actor = actor
        self.txs: list[WalletTransaction] = []
        self.memos: list[tuple[CreditMemo, Wallet, InvoiceLine, Invoice]] = []
        self.memos_by_invoice: dict[int, list[CreditMemo]] = defaultdict(list)
        self.lines: dict[int, InvoiceLine] = {}
        self.holds: list[Hold] = []
        self.wallets: dict[int, Wallet] = {}
        self.raised: list[tuple[Wallet, bool, bool]] = []

    def capture(self, invoice: Invoice, lines, held) -> Money:
        """Capture each hold of the (issued, in memory) invoice over its lines; returns
        the amount captured. The memos are numbered by ``number`` once all are known."""
        captured = Money(0, invoice.currency)
        now = timezone.now()
        for wallet, hold in held:
            for line, part in line_split(lines, hold.amount) if hold.amount.amount > 0 else ():
                kind = TxKind.HOLD_CAPTURE
                movement = capture_movement(invoice, line, part, kind=kind, hold=hold, at=None)
                tx, low, depleted = movement_row(wallet, kind, part, self.actor, **movement)
                if low or depleted:
                    self.raised.append((wallet, low, depleted))
                memo = memo_row(wallet, invoice, line, part, tx, "", self.actor, None)
                line.prepaid_amount += part
                self.txs.append(tx)
                self.memos.append((memo, wallet, line, invoice))
                self.memos_by_invoice[invoice.pk].append(memo)
                self.lines[line.pk] = line
            captured += hold.amount
            hold.status, hold.closed_at = HoldStatus.CAPTURED, now
            self.holds.append(hold)
            self.wallets[wallet.pk] = wallet
        return captured

    def number(self, take) -> None:
        """Number the memos, in order, with ``take(count)``'s gapless numbers."""
        if self.memos:
            for (memo, *_rest), (_seq, number) in zip(
                self.memos, take(len(self.memos)), strict=True
            ):
                memo.number = number

    def write(self) -> dict[int, list[Posting]]:
        """Write the movements, memos, lines, holds and wallets; return each invoice's
        ``CRMO`` postings (in memo order)."""
        WalletTransaction.objects.bulk_create(self.txs)  # their ids reach the memos' drawdown
        CreditMemo.objects.bulk_create([memo for memo, *_rest in self.memos])
        update_rows(InvoiceLine, list(self.lines.values()), ["prepaid_amount"])
        update_rows(Hold, self.holds, ["status", "closed_at"])
        update_rows(Wallet, list(self.wallets.values()), WALLET_FIELDS)
        postings = defaultdict(list)
        for memo, wallet, line, invoice in self.memos:
            postings[invoice.pk].append(memo_posting(wallet, invoice, line, memo))
        return postings

    def announce(self) -> None:
        """The alerts a capture raised (none, in practice: a capture moves money from
        held to consumed, so what is available does not change)."""
        for wallet, low, depleted in self.raised:
            alerts.announce(wallet, low=low, depleted=depleted)
