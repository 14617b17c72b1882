"""Re-derive every account from its entries (used by ``manage.py verify_ledger``):
seq, balances and the hash chain (``ledger.chain``)."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from . import chain
from .models import Account, Invoice, LedgerEntry

BATCH = 5000
_COLUMNS = (*chain.FIELD_NAMES, "digest")
_SEQ, _CURRENCY, _DEBIT, _CREDIT, _BALANCE, _DIGEST = (
    _COLUMNS.index(name)
    for name in ("seq", "currency", "debit", "credit", "balance_after", "digest")
)


def _entries(account_id: int) -> Iterator[tuple]:
    """Every entry of the account in seq order, as tuples of ``_COLUMNS`` (keyset
    batches)."""
    cursor = 0
    while True:
        batch = list(
            LedgerEntry.objects.filter(account_id=account_id, seq__gt=cursor)
            .order_by("seq")
            .values_list(*_COLUMNS)[:BATCH]
        )
        if not batch:
            return
        yield from batch
        cursor = batch[-1][_SEQ]


def unchained(account: Account) -> bool:
    """The account has entries and none of them carries a digest, nor does the account
    row: entries written straight into the table (a bulk load, a test fixture), never
    through the posting service. ``verify_ledger`` says so, and with ``require_chain``
    counts it as a problem. (One that carries digests for some entries only is broken.)"""
    return (
        account.last_seq > 0
        and account.last_digest == chain.GENESIS
        and not LedgerEntry.objects.filter(account_id=account.pk).exclude(digest="").exists()
    )


class _Chain:
    """Follows the stored digests link by link and keeps the first broken one.

    Each entry's stored digest must be ``link(previous stored digest, its content)``: an
    entry whose content (or digest) was changed fails its own link; a removed entry
    makes the next one fail (its link was made from the removed entry's digest), and
    is named by the seq gap; removed last entries leave the account's ``last_digest``
    pointing past the last stored one."""

    def __init__(self, account: Account):
        self.account = account
        self.previous = chain.GENESIS
        self.first_broken: str | None = None

    def _broken(self, seq: int, why: str) -> None:
        if self.first_broken is None:
            self.first_broken = (
                f"hash chain broken first at entry (account {self.account.pk}, seq {seq}): {why}"
            )

    def follow(self, row: tuple, expected_seq: int) -> None:
        seq, digest = row[_SEQ], row[_DIGEST]
        if seq != expected_seq:
            absent = f"{expected_seq}" + (f"-{seq - 1}" if seq - 1 > expected_seq else "")
            self._broken(expected_seq, f"the entry is missing (seq {absent} absent)")
        elif (
            self.first_broken is None
            and chain.link(self.previous, chain.content_of_row(row)) != digest
        ):
            self._broken(
                seq,
                "its stored digest does not match its content and the digest before it "
                "(the entry, or the one before it, was changed after it was posted)",
            )
        self.previous = digest

    def close(self, last_seq: int) -> str | None:
        """After the last stored entry (``last_seq``): the account's head must be it."""
        if self.account.last_digest != self.previous:
            if self.account.last_seq > last_seq:
                absent = f"{last_seq + 1}" + (
                    f"-{self.account.last_seq}" if self.account.last_seq > last_seq + 1 else ""
                )
                self._broken(last_seq + 1, f"the entry is missing (seq {absent} absent)")
            else:
                self._broken(
                    last_seq,
                    "the account's last digest is not this entry's digest (the account row "
                    "was changed, or entries after this one were removed)",
                )
        return self.first_broken


def verify_account(account: Account, *, require_chain: bool = False) -> list[str]:
    """Problems found in one account's ledger (empty when it is consistent).

    Checks: seq runs 1..last_seq with no gap or repeat; every ``balance_after`` equals
    the previous one plus credit minus debit; the account's ``balance`` equals
    Σcredit − Σdebit and the last ``balance_after``; every entry is in the account's
    currency; the hash chain holds, from the first entry to the account's
    ``last_digest`` (the first broken entry is named) — unless the account is
    ``unchained`` and the chain is not required. Arithmetic in Decimal, never in SQL
    (SQLite sums in floating point).
    """
    problems = []
    running = Decimal(0)
    expected_seq = 0
    links = None
    if not unchained(account):
        links = _Chain(account)
    elif require_chain:
        problems.append("no hash chain: no entry carries a digest")
    for row in _entries(account.pk):
        seq, currency = row[_SEQ], row[_CURRENCY]
        expected_seq += 1
        if links is not None:
            links.follow(row, expected_seq)
        if seq != expected_seq:
            problems.append(f"seq {seq} found where {expected_seq} was expected")
            expected_seq = seq
        if currency != account.currency:
            problems.append(f"entry seq {seq} is in {currency}, account is {account.currency}")
        running += row[_CREDIT] - row[_DEBIT]
        if row[_BALANCE] != running:
            problems.append(
                f"entry seq {seq}: balance_after {row[_BALANCE]} but entries sum to {running}"
            )
            running = row[_BALANCE]
    if expected_seq != account.last_seq:
        problems.append(f"last_seq is {account.last_seq} but {expected_seq} entries exist")
    if account.balance.amount != running:
        problems.append(f"balance is {account.balance.amount} but entries sum to {running}")
    broken = links.close(expected_seq) if links is not None else None
    if broken:
        problems.append(broken)
    return problems


def verify_invoices(account: Account) -> list[str]:
    problems = []
    invoices = Invoice.objects.filter(account=account).prefetch_related("lines")
    for invoice in invoices:
        lines_total = sum((line.amount.amount for line in invoice.lines.all()), Decimal(0))
        if lines_total != invoice.total.amount:
            problems.append(
                f"invoice {invoice}: total {invoice.total.amount} but lines sum to {lines_total}"
            )
    return problems


def verify_all(account_ids=None, *, require_chain=False) -> Iterator[tuple[Account, list[str]]]:
    accounts = Account.objects.order_by("pk")
    if account_ids:
        accounts = accounts.filter(pk__in=account_ids)
    for account in accounts.iterator(chunk_size=500):
        problems = verify_account(account, require_chain=require_chain)
        yield account, problems + verify_invoices(account)


@dataclass(frozen=True)
class Verification:
    """One account checked as ``manage.py verify_ledger`` checks it (its default: the
    chain is not required of an account written outside the posting service)."""

    account: Account
    entries: int
    balance: Money
    problems: list[str]
    unchained: bool

    @property
    def consistent(self) -> bool:
        return not self.problems


def verify_one(account: Account | int, *, require_chain: bool = False) -> Verification:
    """Read-only: the account re-read, its ledger and invoices verified; the staff
    *Verify ledger* page and ``GET /api/v1/accounts/{id}/verification/`` show this."""
    account = Account.objects.get(pk=getattr(account, "pk", account))
    problems = verify_account(account, require_chain=require_chain) + verify_invoices(account)
    return Verification(
        account=account,
        entries=LedgerEntry.objects.filter(account_id=account.pk).count(),
        balance=account.balance,
        problems=problems,
        unchained=not problems and unchained(account),
    )
