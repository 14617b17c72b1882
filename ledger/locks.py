"""Row locks, and the one order every transaction takes them in.

    account group -> account -> invoice -> wallet -> hold -> payment

A transaction may skip any step but never goes back up the list: two transactions that
lock in the same order can wait for each other but never deadlock. Rows that belong to
a locked row are locked under it and need no place of their own: an invoice's lines
under the invoice; the numbering counters (``InvoiceCounter``: invoice series, credit
memos) last, held until commit so a rollback gives the number back. Wallets of one
invoice are locked in wallet id order.

Every lock is ``SELECT ... FOR NO KEY UPDATE`` (``select_for_update(no_key=True)``): it
excludes other writers of the row but not the ``FOR KEY SHARE`` lock that PostgreSQL's
foreign-key checks take on a referenced row. A plain ``FOR UPDATE`` would make a wallet
drawdown (whose insert references the account) wait for, and deadlock against, a
transaction holding the account lock.

Call these inside ``transaction.atomic()``: outside one PostgreSQL refuses
``FOR UPDATE`` (SQLite ignores it, so only the PostgreSQL tests would notice).
"""

from django.db import models

from .models import Account, Invoice


def _pk(obj: models.Model | int) -> int:
    return obj.pk if isinstance(obj, models.Model) else int(obj)


def lock_row(model: type[models.Model], pk: models.Model | int, *, select_related=()):
    """Lock one row of ``model`` and return it fresh from the database.

    ``select_related`` reads the given relations in the same query without locking
    their rows (``of=("self",)``): locking a joined row too would take it out of order.
    """
    rows = model.objects.select_for_update(no_key=True)
    if select_related:
        rows = model.objects.select_for_update(of=("self",), no_key=True).select_related(
            *select_related
        )
    return rows.get(pk=_pk(pk))


def lock_account(account: Account | int) -> Account:
    """Lock and return the account row: before anything of the account but its group."""
    return lock_row(Account, account)


def lock_invoice(invoice: Invoice | int) -> tuple[Account, Invoice]:
    """Lock the invoice's account, then the invoice; return both, fresh."""
    invoice_id = _pk(invoice)
    account_id = Invoice.objects.values_list("account_id", flat=True).get(pk=invoice_id)
    return lock_account(account_id), lock_row(Invoice, invoice_id)
