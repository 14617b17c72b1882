"""The posting service: the only code that appends ledger entries.

Posting locks the account row, numbers the entries ``last_seq + 1 ...``, computes each
``balance_after`` from the locked balance and each ``digest`` from the locked
``last_digest`` (the hash chain, ``ledger.chain``), inserts them and moves the account's
balance, last seq and last digest, all in one transaction. The unique ``(account, seq)``
constraint makes a lost update impossible even if a caller forgot the lock.

On PostgreSQL all of it is ONE statement (``posting_sql``): the account row is locked
and read, the entries are numbered, balanced, chained with ``sha256()`` and inserted,
and the account row is moved, in a single round trip (a prepared statement,
``ledger.prepared``). Outside a transaction that statement is the whole transaction:
the row lock is held only while it runs and commits; inside a caller's transaction it
takes no savepoint. A statement that
finds the account in the wrong currency, or posted to after a back-dated ``at``,
changes nothing and returns no rows; the ORM path then explains the refusal under the
lock. Other databases (SQLite) take the ORM path, which computes the same digests in
Python.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from moneyed import Money

from .. import chain, prepared
from ..errors import InvalidAmount, InvalidInput
from ..locks import lock_account
from ..models import Account, EntryKind, Invoice, LedgerEntry
from ..models.entries import DEBIT_KINDS
from ..money import check_precision, to_money
from . import posting_sql
from .actors import Actor


@dataclass(frozen=True)
class Posting:
    """One entry to post. ``amount`` is signed and goes to the kind's column:
    the debit column for ``INVC``, the credit column for the others."""

    kind: str
    amount: Money
    reference: str
    description: str = ""
    invoice: Invoice | None = None
    source: models.Model | None = None
    method: str = ""


def _validate(currency: str, account_id: int, posting: Posting, index: int) -> Money:
    where = f"postings[{index}]"
    if posting.kind not in EntryKind.values:
        raise InvalidInput(f"{where}.kind: unknown entry kind {posting.kind!r}.", field="kind")
    amount = to_money(posting.amount, currency, field="amount")
    check_precision(amount.amount, currency, field="amount")
    if amount.amount == 0:
        raise InvalidAmount(f"{where}.amount: a ledger entry cannot be zero.", field="amount")
    if not posting.reference:
        raise InvalidInput(f"{where}.reference: a reference is required.", field="reference")
    if posting.invoice is not None and posting.invoice.account_id != account_id:
        raise InvalidInput(
            f"{where}.invoice: invoice {posting.invoice} belongs to another account.",
            field="invoice",
        )
    return amount


@dataclass(frozen=True)
class _Line:
    """One validated posting as it is stored: the columns the caller decides."""

    kind: str
    reference: str
    description: str
    debit: Decimal
    credit: Decimal
    method: str
    invoice: Invoice | None
    source_type_id: int | None
    source_id: int | None


def _lines(currency: str, account_id: int, postings: Sequence[Posting]) -> list[_Line]:
    lines = []
    for index, posting in enumerate(postings):
        amount = _validate(currency, account_id, posting, index).amount
        is_debit = posting.kind in DEBIT_KINDS
        source = posting.source
        lines.append(
            _Line(
                kind=posting.kind,
                reference=posting.reference[:64],
                description=posting.description[:255],
                debit=amount if is_debit else Decimal(0),
                credit=Decimal(0) if is_debit else amount,
                method=posting.method,
                invoice=posting.invoice,
                source_type_id=ContentType.objects.get_for_model(source).pk if source else None,
                source_id=source.pk if source else None,
            )
        )
    return lines


# --- building the returned entries ---------------------------------------------------

_FIELDS = LedgerEntry._meta.concrete_fields
_INVOICE = LedgerEntry._meta.get_field("invoice")


def _values(account_id, currency, line: _Line, actor: Actor, **decided) -> dict:
    """An entry's column values (by attname) from its line and what the lock decided
    (seq, posted_at, balance_after; the digest; the id once stored)."""
    return {
        "account_id": account_id,
        "currency": currency,
        "kind": line.kind,
        "reference": line.reference,
        "description": line.description,
        "debit": Money(line.debit, currency),
        "credit": Money(line.credit, currency),
        "method": line.method,
        "invoice_id": line.invoice.pk if line.invoice is not None else None,
        "source_type_id": line.source_type_id,
        "source_id": line.source_id,
        "actor_id": actor.user_id,
        "actor_label": actor.label[:150],
        **decided,
        "balance_after": Money(decided["balance_after"], currency),
    }


def _stored_entry(values: dict, invoice: Invoice | None) -> LedgerEntry:
    """The stored entry, built as the ORM builds a loaded row (``Model.from_db``)."""
    entry = LedgerEntry.from_db(connection.alias, None, [values[f.attname] for f in _FIELDS])
    if invoice is not None:
        _INVOICE.set_cached_value(entry, invoice)
    return entry


# --- PostgreSQL: one statement ---------------------------------------------------------


def _currency(postings: Sequence[Posting], account_id: int) -> str | None:
    """The one currency of the postings when every amount is a Money; else the
    account's, read without a lock (the statement re-checks it under the lock)."""
    currencies = {str(p.amount.currency) for p in postings if isinstance(p.amount, Money)}
    if len(currencies) == 1 and all(isinstance(p.amount, Money) for p in postings):
        return currencies.pop()
    return prepared.one_value(
        connection, f"SELECT currency FROM {Account._meta.db_table} WHERE id = %(id)s",
        {"id": account_id},
    )  # fmt: skip


def _chain_parts(account_id, currency, line: _Line, actor: Actor) -> tuple[str, str, str]:
    """What the entry's canonical text holds besides seq, posted_at and balance_after."""
    return chain.parts(
        {
            "account_id": account_id,
            "currency": currency,
            "kind": line.kind,
            "reference": line.reference,
            "description": line.description,
            "debit": line.debit,
            "credit": line.credit,
            "method": line.method,
            "invoice_id": line.invoice.pk if line.invoice is not None else None,
            "source_type_id": line.source_type_id,
            "source_id": line.source_id,
            "actor_id": actor.user_id,
            "actor_label": actor.label[:150],
        }
    )


def _post_in_one_statement(
    account_id: int, postings: Sequence[Posting], actor: Actor, when: datetime, strict: bool
) -> list[LedgerEntry] | None:
    """Post with the one statement (``posting_sql``); None when it refused (nothing
    changed)."""
    currency = _currency(postings, account_id)
    if currency is None:
        return None  # no such account: the ORM path says so
    lines = _lines(currency, account_id, postings)
    rows = posting_sql.execute(
        connection,
        account_id=account_id,
        currency=currency,
        when=when,
        strict=strict,
        lines=lines,
        parts=[_chain_parts(account_id, currency, line, actor) for line in lines],
        actor=actor,
    )
    if not rows:
        return None
    return [
        _stored_entry(
            _values(
                account_id,
                currency,
                line,
                actor,
                id=pk,
                seq=seq,
                posted_at=posted_at,
                balance_after=balance_after,
                digest=digest,
            ),
            line.invoice,
        )
        for line, (pk, seq, posted_at, balance_after, digest) in zip(lines, rows, strict=True)
    ]


# --- any database: the ORM under a row lock -------------------------------------------


def _check_time_order(account: Account, at: datetime | None) -> None:
    if at is not None and account.last_posted_at and at < account.last_posted_at:
        raise InvalidInput(
            f"at: postings to account {account.pk} must be in time order; "
            f"{at:%Y-%m-%d %H:%M} is before its last posting "
            f"({account.last_posted_at:%Y-%m-%d %H:%M}).",
            field="at",
        )


def _chained(locked: Account, lines: list[_Line], actor: Actor, posted_at) -> list[LedgerEntry]:
    """The entries numbered after the locked account's last, each with the balance
    right after it and its link in the hash chain."""
    balance, digest = locked.balance.amount, locked.last_digest
    entries = []
    for seq, line in enumerate(lines, locked.last_seq + 1):
        balance = balance - line.debit + line.credit
        values = _values(
            locked.pk, locked.currency, line, actor, seq=seq, posted_at=posted_at,
            balance_after=balance,
        )  # fmt: skip
        digest = values["digest"] = chain.entry_digest(digest, values)
        entry = LedgerEntry(**values)
        if line.invoice is not None:
            _INVOICE.set_cached_value(entry, line.invoice)
        entries.append(entry)
    return entries


def _post_with_orm(
    account_id: int, postings: Sequence[Posting], actor: Actor, when: datetime, at
) -> list[LedgerEntry]:
    with transaction.atomic():
        locked = lock_account(account_id)
        lines = _lines(locked.currency, account_id, postings)
        _check_time_order(locked, at)
        posted_at = max(when, locked.last_posted_at) if locked.last_posted_at else when
        entries = _chained(locked, lines, actor, posted_at)
        LedgerEntry.objects.bulk_create(entries)
        Account.objects.filter(pk=account_id).update(
            balance=entries[-1].balance_after.amount,
            last_seq=entries[-1].seq,
            last_posted_at=posted_at,
            last_digest=entries[-1].digest,
        )
        return entries


def post(
    *,
    account: Account | int,
    postings: Sequence[Posting],
    actor: Actor,
    at: datetime | None = None,
) -> list[LedgerEntry]:
    """Append ``postings`` to the account's ledger atomically; return the new entries.

    ``at`` back-dates the postings (imports, demo data); it may not be earlier than the
    account's last posting, so ``seq`` order and time order always agree (without
    ``at``, a clock that went backwards posts at the last posting's time).

    Refusals found before anything is written (amounts, kinds, references, invoices of
    another account) and those the lock reveals (another currency, a back-dated ``at``)
    leave a caller's transaction usable.
    """
    if not postings:
        raise InvalidInput("Nothing to post.", field="postings")
    account_id = account.pk if isinstance(account, Account) else account
    when = at or timezone.now()
    entries = None
    if connection.vendor == "postgresql":
        entries = _post_in_one_statement(account_id, postings, actor, when, at is not None)
    if entries is None:
        entries = _post_with_orm(account_id, postings, actor, when, at)
    if isinstance(account, Account):
        last = entries[-1]
        account.balance, account.last_seq = last.balance_after, last.seq
        account.last_posted_at, account.last_digest = last.posted_at, last.digest
    return entries
