"""Re-derive every account from its entries (used by ``manage.py verify_ledger``)."""

from collections.abc import Iterator
from decimal import Decimal

from .models import Account, Invoice, LedgerEntry

BATCH = 5000


def _entries(account_id: int) -> Iterator[tuple]:
    cursor = 0
    while True:
        batch = list(
            LedgerEntry.objects.filter(account_id=account_id, seq__gt=cursor)
            .order_by("seq")
            .values_list("seq", "debit", "credit", "balance_after", "currency")[:BATCH]
        )
        if not batch:
            return
        yield from batch
        cursor = batch[-1][0]


def verify_account(account: Account) -> list[str]:
    """Problems found in one account's ledger (empty when it is consistent).

    Checks: seq runs 1..last_seq with no gap or repeat; every ``balance_after`` equals
    the previous one plus credit minus debit; the account's ``balance`` equals
    Σcredit − Σdebit and the last ``balance_after``; every entry is in the account's
    currency. Arithmetic in Decimal, never in SQL (SQLite sums in floating point).
    """
    problems = []
    running = Decimal(0)
    expected_seq = 0
    for seq, debit, credit, balance_after, currency in _entries(account.pk):
        expected_seq += 1
        if seq != expected_seq:
            problems.append(f"seq {seq} found where {expected_seq} was expected")
            expected_seq = seq
        if currency != account.currency:
            problems.append(f"entry seq {seq} is in {currency}, account is {account.currency}")
        running += credit - debit
        if balance_after != running:
            problems.append(
                f"entry seq {seq}: balance_after {balance_after} but entries sum to {running}"
            )
            running = balance_after
    if expected_seq != account.last_seq:
        problems.append(f"last_seq is {account.last_seq} but {expected_seq} entries exist")
    if account.balance.amount != running:
        problems.append(f"balance is {account.balance.amount} but entries sum to {running}")
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


def verify_all(account_ids=None) -> Iterator[tuple[Account, list[str]]]:
    accounts = Account.objects.order_by("pk")
    if account_ids:
        accounts = accounts.filter(pk__in=account_ids)
    for account in accounts.iterator(chunk_size=500):
        yield account, verify_account(account) + verify_invoices(account)
