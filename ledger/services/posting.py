"""The posting service: the only code that appends ledger entries.

Posting locks the account row, numbers the entries ``last_seq + 1 ...``, computes each
``balance_after`` from the locked balance, inserts them and moves the account's balance,
all in one transaction. The unique ``(account, seq)`` constraint makes a lost update
impossible even if a caller forgot the lock.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from djmoney.models.fields import MoneyField
from moneyed import Money

from ..errors import CurrencyMismatch, InvalidAmount, InvalidInput
from ..locks import lock_account
from ..models import Account, EntryKind, Invoice, LedgerEntry
from ..models.entries import DEBIT_KINDS
from ..money import check_precision, to_money
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
class _Head:
    """The account's ledger state just before the postings, under its lock."""

    currency: str
    balance: Decimal
    last_seq: int
    last_posted_at: datetime | None
    posted_at: datetime  # the time the new entries carry


def _signed(postings: Sequence[Posting], amounts: list[Money]) -> Decimal:
    return sum(
        (
            -a.amount if p.kind in DEBIT_KINDS else a.amount
            for p, a in zip(postings, amounts, strict=True)
        ),
        Decimal(0),
    )


def _advance_in_one_statement(account_id: int, count: int, delta: Decimal, when) -> _Head:
    """PostgreSQL: lock the account row and move it past the new entries in ONE round
    trip (a locking CTE feeding an UPDATE ... RETURNING the old state)."""
    table = Account._meta.db_table
    sql = f"""
        WITH old AS (
            SELECT id, currency, balance, last_seq, last_posted_at
            FROM {table} WHERE id = %s FOR NO KEY UPDATE
        )
        UPDATE {table} AS a
        SET last_seq = old.last_seq + %s,
            balance = old.balance + %s,
            last_posted_at = GREATEST(COALESCE(old.last_posted_at, %s), %s)
        FROM old WHERE a.id = old.id
        RETURNING old.currency, old.balance, old.last_seq, old.last_posted_at, a.last_posted_at
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [account_id, count, delta, when, when])
        row = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist(f"Account {account_id} does not exist.")
    return _Head(*row)


# The entry's columns in model order (all but the id), read from the model so a new field
# can never be left out of the raw INSERT; money fields carry their Decimal amount.
_ENTRY_FIELDS = [f for f in LedgerEntry._meta.concrete_fields if not f.primary_key]
ENTRY_COLUMNS = tuple(f.column for f in _ENTRY_FIELDS)
_MONEY = frozenset(f.attname for f in _ENTRY_FIELDS if isinstance(f, MoneyField))


def _insert_in_one_statement(entries: list[LedgerEntry]) -> None:
    """PostgreSQL: one plain multi-row INSERT ... RETURNING id (Decimal amounts, no ORM
    compilation), then the ids onto the entry objects the caller gets back."""
    table = LedgerEntry._meta.db_table
    row = "(" + ", ".join(["%s"] * len(ENTRY_COLUMNS)) + ")"
    params = []
    for entry in entries:
        values = entry.__dict__
        for field in _ENTRY_FIELDS:
            value = values[field.attname]
            params.append(getattr(value, "amount", value) if field.attname in _MONEY else value)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(ENTRY_COLUMNS)}) VALUES "
            + ", ".join([row] * len(entries))
            + " RETURNING id",
            params,
        )
        ids = [r[0] for r in cursor.fetchall()]
    for entry, pk in zip(entries, ids, strict=True):
        entry.pk = pk
        entry._state.adding = False
        entry._state.db = connection.alias


def _advance_with_orm(account_id: int, postings, when) -> tuple[_Head, list[Money]]:
    """Any database: lock the row, validate against it, then move it."""
    locked = lock_account(account_id)
    amounts = [_validate(locked.currency, account_id, p, i) for i, p in enumerate(postings)]
    posted_at = max(when, locked.last_posted_at) if locked.last_posted_at else when
    Account.objects.filter(pk=account_id).update(
        balance=locked.balance.amount + _signed(postings, amounts),
        last_seq=locked.last_seq + len(postings),
        last_posted_at=posted_at,
    )
    head = _Head(
        locked.currency, locked.balance.amount, locked.last_seq, locked.last_posted_at, posted_at
    )
    return head, amounts


def _money_currency(postings: Sequence[Posting]) -> str | None:
    """The one currency of the postings when every amount is a Money, else None."""
    currencies = {str(p.amount.currency) for p in postings if isinstance(p.amount, Money)}
    if len(currencies) != 1 or not all(isinstance(p.amount, Money) for p in postings):
        return None
    return currencies.pop()


def _advance(account_id: int, postings: Sequence[Posting], when) -> tuple[_Head, list[Money]]:
    """Lock the account and move it past the postings; return its state before them
    and the validated amounts."""
    currency = _money_currency(postings)
    if connection.vendor != "postgresql" or currency is None:
        return _advance_with_orm(account_id, postings, when)
    amounts = [_validate(currency, account_id, p, i) for i, p in enumerate(postings)]
    head = _advance_in_one_statement(account_id, len(postings), _signed(postings, amounts), when)
    if head.currency != currency:
        raise CurrencyMismatch(
            f"amount: {currency} does not match the account currency {head.currency}.",
            field="amount",
        )
    return head, amounts


def _check_time_order(account_id: int, head: _Head, at: datetime | None) -> None:
    if at is not None and head.last_posted_at and at < head.last_posted_at:
        raise InvalidInput(
            f"at: postings to account {account_id} must be in time order; "
            f"{at:%Y-%m-%d %H:%M} is before its last posting "
            f"({head.last_posted_at:%Y-%m-%d %H:%M}).",
            field="at",
        )


def _entries(
    account_id: int, head: _Head, postings: Sequence[Posting], amounts: list[Money], actor: Actor
) -> list[LedgerEntry]:
    """The entries numbered after ``head``, each with the balance right after it."""
    zero = Money(0, head.currency)
    balance = Money(head.balance, head.currency)
    entries = []
    for seq, (posting, amount) in enumerate(zip(postings, amounts, strict=True), head.last_seq + 1):
        is_debit = posting.kind in DEBIT_KINDS
        balance = balance - amount if is_debit else balance + amount
        source = posting.source
        entries.append(
            LedgerEntry(
                account_id=account_id,
                seq=seq,
                posted_at=head.posted_at,
                kind=posting.kind,
                reference=posting.reference[:64],
                description=posting.description[:255],
                currency=head.currency,
                debit=amount if is_debit else zero,
                credit=zero if is_debit else amount,
                balance_after=balance,
                method=posting.method,
                invoice=posting.invoice,
                source_type=ContentType.objects.get_for_model(source) if source else None,
                source_id=source.pk if source else None,
                actor_id=actor.user_id,
                actor_label=actor.label[:150],
            )
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

    On PostgreSQL with Money amounts the account is locked and advanced in one
    statement and the entries inserted in a second; anything the lock reveals to be
    wrong (another currency, a back-dated ``at``) raises, which rolls both back.
    """
    if not postings:
        raise InvalidInput("Nothing to post.", field="postings")
    account_id = account.pk if isinstance(account, Account) else account
    when = at or timezone.now()
    with transaction.atomic():
        head, amounts = _advance(account_id, postings, when)
        _check_time_order(account_id, head, at)
        entries = _entries(account_id, head, postings, amounts, actor)
        if connection.vendor == "postgresql":
            _insert_in_one_statement(entries)
        else:
            LedgerEntry.objects.bulk_create(entries)
        if isinstance(account, Account):
            account.balance, account.last_seq = entries[-1].balance_after, entries[-1].seq
            account.last_posted_at = head.posted_at
        return entries
