"""The posting service: the only code that appends ledger entries.

Posting locks the account row, numbers the entries ``last_seq + 1 ...``, computes each
``balance_after`` from the locked balance, inserts them and moves the account's balance,
all in one transaction. The unique ``(account, seq)`` constraint makes a lost update
impossible even if a caller forgot the lock.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from moneyed import Money

from ..errors import InvalidAmount, InvalidInput
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


def lock_account(account_id: int) -> Account:
    """Lock and return the account row (call inside a transaction).

    Lock order everywhere: account group, account, invoice, wallet, payment.
    """
    return Account.objects.select_for_update().get(pk=account_id)


def _validate(account: Account, posting: Posting, index: int) -> Money:
    where = f"postings[{index}]"
    if posting.kind not in EntryKind.values:
        raise InvalidInput(f"{where}.kind: unknown entry kind {posting.kind!r}.", field="kind")
    amount = to_money(posting.amount, account.currency, field="amount")
    check_precision(amount.amount, account.currency, field="amount")
    if amount.amount == 0:
        raise InvalidAmount(f"{where}.amount: a ledger entry cannot be zero.", field="amount")
    if not posting.reference:
        raise InvalidInput(f"{where}.reference: a reference is required.", field="reference")
    if posting.invoice is not None and posting.invoice.account_id != account.pk:
        raise InvalidInput(
            f"{where}.invoice: invoice {posting.invoice} belongs to another account.",
            field="invoice",
        )
    return amount


def post(
    *,
    account: Account | int,
    postings: Sequence[Posting],
    actor: Actor,
    at: datetime | None = None,
) -> list[LedgerEntry]:
    """Append ``postings`` to the account's ledger atomically; return the new entries.

    ``at`` back-dates the postings (imports, demo data); it may not be earlier than the
    account's last posting, so ``seq`` order and time order always agree.
    """
    if not postings:
        raise InvalidInput("Nothing to post.", field="postings")
    account_id = account.pk if isinstance(account, Account) else account
    with transaction.atomic():
        locked = lock_account(account_id)
        amounts = [_validate(locked, p, i) for i, p in enumerate(postings)]
        now = timezone.now()
        posted_at = at or now
        if locked.last_posted_at and posted_at < locked.last_posted_at:
            if at is not None:
                raise InvalidInput(
                    f"at: postings to account {locked.pk} must be in time order; "
                    f"{posted_at:%Y-%m-%d %H:%M} is before its last posting "
                    f"({locked.last_posted_at:%Y-%m-%d %H:%M}).",
                    field="at",
                )
            posted_at = locked.last_posted_at  # clock went backwards: keep order

        currency = locked.currency
        zero = Money(0, currency)
        balance = locked.balance
        seq = locked.last_seq
        entries = []
        for posting, amount in zip(postings, amounts, strict=True):
            seq += 1
            is_debit = posting.kind in DEBIT_KINDS
            balance = balance - amount if is_debit else balance + amount
            source = posting.source
            entries.append(
                LedgerEntry(
                    account_id=locked.pk,
                    seq=seq,
                    posted_at=posted_at,
                    kind=posting.kind,
                    reference=posting.reference[:64],
                    description=posting.description[:255],
                    currency=currency,
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
        LedgerEntry.objects.bulk_create(entries)
        Account.objects.filter(pk=locked.pk).update(
            balance=balance.amount, last_seq=seq, last_posted_at=posted_at
        )
        if isinstance(account, Account):
            account.balance, account.last_seq, account.last_posted_at = balance, seq, posted_at
        return entries
