"""An account's whole position on one page: its ledger, what it owes, its wallets and
their holds (issue 11). Read by the staff account page, the member home and the API.

``account_position(account)`` costs the same four queries however many invoices,
wallets or holds the account has (open invoices; wallets; their active holds with
their invoices; payments still waiting, such as requested top-ups).
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.utils import timezone
from moneyed import Money

from ledger.models import Account, Invoice
from ledger.models.invoices import OPEN
from wallets.models import Hold, HoldStatus, Wallet

from ..models import Payment
from ..models.payments import WAITING_STATUSES


@dataclass
class OwedInvoice:
    invoice: Invoice
    due: Money  # still owed on it
    overdue: bool  # past its due date with money owed
    days_overdue: int


@dataclass
class WalletPosition:
    wallet: Wallet
    total: Money
    consumed: Money
    held: Money
    available: Money
    holds: list[Hold]  # active holds, each with its ``invoice``


@dataclass
class AccountPosition:
    account: Account
    balance: Money  # ledger balance: credits − debits (positive: in credit)
    free_credit: Money  # money received and not yet applied to any invoice
    owed: Money  # what the open invoices still owe
    overdue: Money  # the part of ``owed`` past its due date
    invoices: list[OwedInvoice] = field(default_factory=list)  # oldest due first
    wallets: list[WalletPosition] = field(default_factory=list)
    waiting_top_ups: list[Payment] = field(default_factory=list)

    @property
    def wallet_available(self) -> Money:
        return sum((w.available for w in self.wallets), Money(0, self.account.currency))

    @property
    def wallet_held(self) -> Money:
        return sum((w.held for w in self.wallets), Money(0, self.account.currency))

    @property
    def overdue_count(self) -> int:
        return sum(1 for i in self.invoices if i.overdue)


def _owed(invoices: list[Invoice], today: date) -> list[OwedInvoice]:
    rows = []
    for invoice in invoices:
        due = invoice.amount_due
        late = bool(invoice.due_date and invoice.due_date < today and due.amount > 0)
        days = (today - invoice.due_date).days if late else 0
        rows.append(OwedInvoice(invoice, due, late, days))
    return rows


def _wallets(account: Account) -> list[WalletPosition]:
    active_holds = Hold.objects.filter(status=HoldStatus.ACTIVE).select_related("invoice")
    wallets = (
        Wallet.objects.filter(account=account)
        .order_by("status", "name", "id")
        .prefetch_related(Prefetch("holds", queryset=active_holds.order_by("id"), to_attr="live"))
    )
    return [
        WalletPosition(w, w.total, w.consumed, w.held, w.available, list(w.live)) for w in wallets
    ]


def account_position(account: Account, *, today: date | None = None) -> AccountPosition:
    """Ledger balance, free credit, owed and overdue (per open invoice, oldest due
    first), each wallet's total / consumed / held / available with the invoices holding
    it, and the top-ups still waiting for their money. ``account`` as loaded: its
    ``balance`` is the stored one (the posting service keeps it)."""
    today = today or timezone.localdate()
    zero = Money(0, account.currency)
    invoices = list(
        Invoice.objects.filter(account=account, status__in=OPEN).order_by(
            "due_date", "issue_date", "id"
        )
    )
    owed = _owed(invoices, today)
    total_owed = sum((row.due for row in owed), zero)
    waiting = Payment.objects.filter(
        account=account, type="top_up", status__in=WAITING_STATUSES, direction="incoming"
    ).select_related("wallet")
    return AccountPosition(
        account=account,
        balance=account.balance,
        free_credit=account.balance + total_owed,
        owed=total_owed,
        overdue=sum((row.due for row in owed if row.overdue), zero),
        invoices=owed,
        wallets=_wallets(account),
        waiting_top_ups=list(waiting.order_by("created_at", "id")),
    )
