"""Reads of the ledger: statements (the payments tab), their CSV, verification.

A statement page is keyset-paged on ``(account, seq)`` (``ledger.keyset``) and shows each
entry's stored ``balance_after``: a page costs the same few queries at any history length.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from moneyed import Money

from .errors import InvalidInput
from .keyset import seq_page
from .models import Account, LedgerEntry

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
CSV_BATCH = 2000


@dataclass
class StatementPage:
    account: Account
    rows: list[LedgerEntry]  # newest first
    opening_balance: Money  # balance before the first entry of the period
    closing_balance: Money  # balance after the last entry of the period
    date_from: date | None = None
    date_to: date | None = None
    older_cursor: int | None = None  # pass as ``before`` for the next older page
    newer_cursor: int | None = None  # pass as ``after`` for the next newer page
    is_oldest_page: bool = False  # show the opening-balance row under the last row
    entry_count: int = 0


@dataclass(frozen=True)
class SeqRange:
    """The entries of a period as an inclusive ``seq`` range (empty when lo > hi)."""

    lo: int
    hi: int
    opening: Decimal
    closing: Decimal

    @property
    def empty(self) -> bool:
        return self.lo > self.hi


EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def _check_day(day: date | None, field: str) -> None:
    if day is not None and not (EARLIEST <= day <= LATEST):
        raise InvalidInput(
            f"{field}: {day} is outside the dates a statement covers ({EARLIEST} to {LATEST}).",
            field,
        )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def period_range(
    account: Account, date_from: date | None = None, date_to: date | None = None
) -> SeqRange:
    """Map a date period to a seq range with its opening and closing balances.

    ``seq`` and ``posted_at`` grow together (the posting service keeps them so), so a
    period is a contiguous seq range found with two index lookups.
    """
    _check_day(date_from, "from")
    _check_day(date_to, "to")
    entries = LedgerEntry.objects.filter(account_id=account.pk)
    cols = ("seq", "balance_after", "debit", "credit")
    lo, hi = 1, account.last_seq
    opening, closing = Decimal(0), account.balance.amount
    if date_from:
        first = (
            entries.filter(posted_at__gte=_day_start(date_from))
            .order_by("posted_at", "seq")
            .values_list(*cols)
            .first()
        )
        if first is None:
            return SeqRange(lo=hi + 1, hi=hi, opening=closing, closing=closing)
        lo = first[0]
        opening = first[1] - first[3] + first[2]
    if date_to:
        last = (
            entries.filter(posted_at__lt=_day_start(date_to + timedelta(days=1)))
            .order_by("-posted_at", "-seq")
            .values_list(*cols)
            .first()
        )
        if last is None:
            return SeqRange(lo=1, hi=0, opening=Decimal(0), closing=Decimal(0))
        hi = last[0]
        closing = last[1]
    if lo > hi:
        return SeqRange(lo=lo, hi=hi, opening=opening, closing=opening)
    return SeqRange(lo=lo, hi=hi, opening=opening, closing=closing)


def statement_page(
    *,
    account: Account,
    date_from: date | None = None,
    date_to: date | None = None,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> StatementPage:
    """One page of the account's statement, newest first.

    ``before=<seq>``: the page of entries older than that seq; ``after=<seq>``: the page
    of entries newer than it. Neither: the newest page of the period.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    rng = period_range(account, date_from, date_to)
    currency = account.currency
    page = StatementPage(
        account=account,
        rows=[],
        opening_balance=Money(rng.opening, currency),
        closing_balance=Money(rng.closing, currency),
        date_from=date_from,
        date_to=date_to,
        entry_count=max(0, rng.hi - rng.lo + 1),
    )
    if rng.empty:
        page.is_oldest_page = True
        return page
    qs = LedgerEntry.objects.filter(account_id=account.pk, seq__gte=rng.lo, seq__lte=rng.hi)
    found = seq_page(
        qs.select_related("invoice"),
        before=before,
        after=after,
        size=limit,
        first=rng.lo,
        last=rng.hi,
    )
    page.rows, page.older_cursor, page.newer_cursor = found.rows, found.older, found.newer
    page.is_oldest_page = found.is_oldest
    return page


def iter_statement(
    *, account: Account, date_from: date | None = None, date_to: date | None = None
) -> Iterator[tuple]:
    """Every entry of the period, oldest first, in keyset batches (constant memory).

    Yields tuples ``(seq, posted_at, kind, reference, description, method, debit,
    credit, balance_after)`` with Decimal amounts; no transaction is held open.
    """
    rng = period_range(account, date_from, date_to)
    cursor = rng.lo - 1
    cols = (
        "seq",
        "posted_at",
        "kind",
        "reference",
        "description",
        "method",
        "debit",
        "credit",
        "balance_after",
    )
    while cursor < rng.hi:
        batch = list(
            LedgerEntry.objects.filter(account_id=account.pk, seq__gt=cursor, seq__lte=rng.hi)
            .order_by("seq")
            .values_list(*cols)[:CSV_BATCH]
        )
        if not batch:
            return
        yield from batch
        cursor = batch[-1][0]


def accounts_visible_to(user):
    """Accounts a member may read: their own, and every account of a group whose admin
    account they belong to."""
    if not user.is_authenticated:
        return Account.objects.none()
    return Account.objects.filter(
        Q(members=user) | Q(group__admin_account__members=user)
    ).distinct()


def open_invoices(account_ids):
    """Posted invoices still expecting money, oldest due first."""
    from .models.invoices import OPEN, Invoice

    return Invoice.objects.filter(account_id__in=account_ids, status__in=OPEN).order_by(
        "due_date", "issue_date", "id"
    )


def free_credit(account: Account) -> Money:
    """Money on the account not yet applied to any invoice.

    The balance counts every posted invoice as a debit, so the credit free to assign is
    the balance plus what the open invoices still owe. Summed in Python (Decimal).
    """
    total = account.balance.amount
    for invoice in open_invoices([account.pk]):
        total += invoice.amount_due.amount
    return Money(total, account.currency)


# --- how staff and members read an invoice and an entry (display; nothing stored) ------


def amount_owed(invoice) -> Money:
    """What the invoice asks to be paid now: nothing for a cancelled invoice (SPEC 4: it
    owes nothing) and nothing *yet* for a draft or ongoing one; else its amount due."""
    from .models.invoices import POSTED

    if invoice.status not in POSTED:
        return Money(0, invoice.currency or invoice.account.currency)
    return invoice.amount_due


def is_overdue(invoice, today: date | None = None) -> bool:
    """Past its due date with money still owed (SPEC section 4)."""
    today = today or timezone.localdate()
    return bool(invoice.due_date and invoice.due_date < today and amount_owed(invoice).amount > 0)


KIND_PREFIXES = tuple(f"{kind}-" for kind in ("INVC", "PAYM", "CRED", "CRMO"))


def entry_reference(entry: LedgerEntry) -> str:
    """An entry's reference as the payments tab shows it: its kind, then the number of
    the document behind it (docs/RULES.md). The stored reference is unchanged: a payment
    recorded against an invoice is stored ``INVC-<invoice number>`` (the invoice it
    paid) and reads ``PAYM-<invoice number>``; a credit used ``CRED-<payment number>``."""
    return display_reference(entry.kind, entry.reference)


def display_reference(kind: str, reference: str) -> str:
    """``entry_reference`` from the two columns (the CSV exports read rows, not entries;
    ``ledger.csv_copy.DISPLAY_REFERENCE_SQL`` is the same rule in SQL)."""
    for prefix in KIND_PREFIXES:
        if reference.startswith(prefix):
            reference = reference[len(prefix) :]
            break
    return f"{kind}-{reference}"


@dataclass
class StatementRow:
    """One entry of a statement page, with how it reads: its displayed reference and,
    for entries posted together by one document (a refund's ``INVC −x`` / ``PAYM −x``,
    credit used at issue ``PAYM`` / ``CRED``), its place in that one event."""

    entry: LedgerEntry
    reference: str
    event_size: int = 1  # rows of the event, on the first row; 0 on the rows after it
    event: str = ""  # what the event is, on its first row


def _event_key(entry: LedgerEntry):
    if entry.source_id is None:
        return None
    return (entry.source_type_id, entry.source_id)


def _event_label(rows: list[LedgerEntry]) -> str:
    kinds = {(e.kind, e.amount.amount < 0) for e in rows}
    if kinds == {("INVC", True), ("PAYM", True)}:
        return "Refund: the invoice is reduced and the money goes back"
    if kinds == {("PAYM", False), ("CRED", True)}:
        return "Paid from the account's credit"
    return "Posted together"


def statement_rows(entries: list[LedgerEntry]) -> list[StatementRow]:
    """The rows of a page (newest first), consecutive entries of one document grouped."""
    rows = [StatementRow(e, entry_reference(e)) for e in entries]
    i = 0
    while i < len(rows):
        key = _event_key(rows[i].entry)
        j = i + 1
        while key is not None and j < len(rows) and _event_key(rows[j].entry) == key:
            j += 1
        if j - i > 1:
            rows[i].event_size, rows[i].event = j - i, _event_label([r.entry for r in rows[i:j]])
            for row in rows[i + 1 : j]:
                row.event_size = 0
        i = j
    return rows
