"""Wallet movements: top-ups, grants, usage drawdowns, transfers to account credit.

Every movement locks the wallet row, moves its balances, and appends one
``WalletTransaction`` with the balances after it, in one transaction. The database
CHECK ``total >= consumed + held`` is the last line of defence: a drawdown that the
service let through by mistake would still fail rather than overdraw.
"""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from moneyed import Money

from events import rendering as event_rendering
from events import services as events
from events.models import EventType
from ledger import prepared
from ledger import services as ledger
from ledger.errors import InsufficientFunds, InvalidInput, StateConflict
from ledger.locks import lock_row
from ledger.models import Account, EntryKind
from ledger.money import format_money, to_money
from ledger.services import Actor, Posting

from ..models import TxKind, Wallet, WalletStatus, WalletTransaction
from . import alerts, drawdown_sql


def lock_wallet(wallet: Wallet | int) -> Wallet:
    """Lock the wallet row only; its account is read in the same query but not locked
    (the account comes before the wallet in the lock order of ``ledger.locks``)."""
    return lock_row(Wallet, wallet, select_related=("account",))


def lock_wallet_and_account(wallet: Wallet | int) -> tuple[Account, Wallet]:
    """Lock the wallet's account, then the wallet (the order of ``ledger.locks``): for
    a movement that also posts to the account's ledger."""
    wallet_id = wallet.pk if isinstance(wallet, Wallet) else int(wallet)
    account_id = Wallet.objects.values_list("account_id", flat=True).get(pk=wallet_id)
    return ledger.lock_account(account_id), lock_wallet(wallet_id)


def positive(value, currency: str, field: str = "amount") -> Money:
    money = to_money(value, currency, field=field)
    if money.amount <= 0:
        raise InvalidInput(f"{field}: must be positive (got {format_money(money)}).", field=field)
    return money


def require_active(wallet: Wallet) -> None:
    if not wallet.is_active:
        raise StateConflict(f"Wallet '{wallet.name}' is closed.", field="wallet")


def insufficient(wallet: Wallet, what: str, amount: Money) -> InsufficientFunds:
    return InsufficientFunds(
        f"Wallet '{wallet.name}': {what} of {format_money(amount)} refused: only "
        f"{format_money(wallet.available)} is available.",
        field="amount",
    )


def movement_row(
    wallet: Wallet,
    kind: str,
    amount: Money,
    actor: Actor,
    *,
    total: Money | None = None,
    consumed: Money | None = None,
    held: Money | None = None,
    reference: str = "",
    description: str = "",
    invoice=None,
    hold=None,
    source=None,
    at: datetime | None = None,
    usage_reference: str | None = None,
) -> tuple[WalletTransaction, bool, bool]:
    """Move the locked wallet's balances in memory and build its next transaction,
    unsaved: ``(tx, low, depleted)`` — whether the movement crossed the wallet's alerts.
    ``record`` saves one; the billing run's batches bulk-insert theirs."""
    zero = Money(0, wallet.currency)
    before = wallet.available
    wallet.total += total or zero
    wallet.consumed += consumed or zero
    wallet.held += held or zero
    if wallet.available.amount < 0 or wallet.held.amount < 0:
        raise insufficient(wallet, TxKind(kind).label.lower(), amount)
    wallet.last_seq += 1
    low, depleted = alerts.movement(wallet, before)
    tx = WalletTransaction(
        wallet=wallet,
        account_id=wallet.account_id,
        seq=wallet.last_seq,
        at=at or timezone.now(),
        kind=kind,
        currency=wallet.currency,
        amount=amount,
        total_after=wallet.total,
        consumed_after=wallet.consumed,
        held_after=wallet.held,
        reference=(reference or "")[:100],
        usage_reference=usage_reference,
        description=(description or "")[:255],
        invoice=invoice,
        hold=hold,
        source_type=ContentType.objects.get_for_model(source) if source is not None else None,
        source_id=source.pk if source is not None else None,
        actor_id=actor.user_id,
        actor_label=actor.label[:150],
    )
    return tx, low, depleted


def record(
    wallet: Wallet,
    kind: str,
    amount: Money,
    actor: Actor,
    **movement,
) -> WalletTransaction:
    """Move a locked wallet's balances by the given deltas and append the transaction;
    raise the wallet's alerts when this movement crosses them (``alerts``)."""
    tx, low, depleted = movement_row(wallet, kind, amount, actor, **movement)
    wallet.save(
        update_fields=["total", "consumed", "held", "last_seq", "currency", *alerts.FLAG_FIELDS]
    )
    tx.save()
    if low or depleted:
        alerts.announce(wallet, low=low, depleted=depleted)
    return tx


def create_wallet(*, account: Account | int, name: str, actor: Actor) -> Wallet:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("name: a wallet needs a name of at most 100 characters.", "name")
    with transaction.atomic():
        account_id = account.pk if isinstance(account, Account) else int(account)
        locked = ledger.lock_account(account_id)
        if Wallet.objects.filter(account=locked, name=name).exists():
            raise InvalidInput(f"name: account already has a wallet named '{name}'.", "name")
        zero = Money(0, locked.currency)
        return Wallet.objects.create(
            account=locked,
            name=name,
            currency=locked.currency,
            total=zero,
            consumed=zero,
            held=zero,
        )


def top_up(
    *,
    wallet: Wallet | int,
    amount,
    actor: Actor,
    source=None,
    reference: str = "",
    grant: bool = False,
    at: datetime | None = None,
) -> WalletTransaction:
    """Add money to a wallet: from a completed ``top_up`` payment (``source``), or as a
    staff grant (no payment, logged as ``grant``)."""
    with transaction.atomic():
        locked = lock_wallet(wallet)
        require_active(locked)
        money = positive(amount, locked.currency)
        kind = TxKind.GRANT if grant else TxKind.TOP_UP
        tx = record(
            locked,
            kind,
            money,
            actor,
            total=money,
            reference=reference,
            description="Grant by staff" if grant else "Top-up",
            source=source,
            at=at,
        )
        paid_by = source if event_rendering.has_renderer(source) else None
        events.emit(
            EventType.WALLET_TOPPED_UP,
            account=locked.account_id,
            objects={"wallet": locked, "payment": paid_by},
        )
        return tx


def take_back(
    *, wallet: Wallet | int, amount, actor: Actor, source=None, at: datetime | None = None
) -> WalletTransaction:
    """Take top-up money back out of a wallet (a refunded or charged-back top-up);
    refused whole if that much is no longer available."""
    with transaction.atomic():
        locked = lock_wallet(wallet)
        money = positive(amount, locked.currency)
        if money > locked.available:
            raise insufficient(locked, "refund of a top-up", money)
        return record(
            locked,
            TxKind.TOP_UP_REFUND,
            money,
            actor,
            total=-money,
            description="Top-up refunded",
            source=source,
            at=at,
        )


def usage_drawdown(
    *,
    wallet: Wallet | int,
    amount,
    reference: str,
    actor: Actor,
    description: str = "",
    at: datetime | None = None,
) -> WalletTransaction:
    """Draw a usage charge in real time; refused whole if it exceeds what is available.

    ``reference`` identifies the usage (meter id, period). A repeat of the same reference
    with the same amount returns the first drawdown (a retried meter call is harmless);
    with another amount it is refused. Only the wallet row is locked (no ledger entry).

    On PostgreSQL the drawdown is ONE statement (``drawdown_sql``): it locks the wallet
    row if it is active, in the amount's currency and holds enough, appends the
    transaction unless the reference was already drawn, and moves the wallet — so a hot
    wallet's row lock is held for one statement (and, outside a transaction, its
    commit). When it changes nothing (refused, closed, a repeated reference) the locked
    path below explains why, or returns the first drawdown.
    """
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise InvalidInput(
            "reference: a usage reference (at most 100 chars) is required.", "reference"
        )
    wallet_id = wallet.pk if isinstance(wallet, Wallet) else int(wallet)
    if connection.vendor == "postgresql":
        currency = _currency_of(wallet, amount)
        if currency is not None:
            money = positive(amount, currency)
            tx = drawdown_sql.draw_and_alert(
                connection,
                wallet_id=wallet_id,
                money=money,
                reference=reference,
                description=(description or "Usage")[:255],
                actor=actor,
                at=at or timezone.now(),
                announce=_announce_drawdown,
            )
            if tx is not None:
                return tx
    return _drawdown_locked(wallet_id, amount, reference, description, actor, at)


def _announce_drawdown(tx: WalletTransaction, low: bool, depleted: bool) -> None:
    """The statement crossed an alert (in its transaction, the wallet row locked by it)."""
    wallet = Wallet.objects.select_related("account").get(pk=tx.wallet_id)
    alerts.announce(wallet, low=low, depleted=depleted)


def _currency_of(wallet: Wallet | int, amount) -> str | None:
    """The currency to validate ``amount`` in before the lock: the amount's own, the
    wallet object's, or the wallet row's (read unlocked; the statement re-checks it)."""
    if isinstance(amount, Money):
        return str(amount.currency)
    if isinstance(wallet, Wallet) and wallet.currency:
        return wallet.currency
    return prepared.one_value(
        connection, f"SELECT currency FROM {Wallet._meta.db_table} WHERE id = %(id)s",
        {"id": int(wallet)},
    )  # fmt: skip


def _drawdown_locked(wallet_id, amount, reference, description, actor, at):
    """Any database; and PostgreSQL's slow path: lock, explain a refusal, or draw."""
    with transaction.atomic():
        locked = lock_wallet(wallet_id)
        require_active(locked)
        money = positive(amount, locked.currency)
        earlier = WalletTransaction.objects.filter(wallet=locked, usage_reference=reference).first()
        if earlier is not None:
            if earlier.amount == money:
                return earlier
            raise StateConflict(
                f"reference: usage '{reference}' was already drawn for "
                f"{format_money(earlier.amount)}; a different amount is refused.",
                field="reference",
            )
        if money > locked.available:
            raise insufficient(locked, "drawdown", money)
        return record(
            locked,
            TxKind.DRAWDOWN,
            money,
            actor,
            consumed=money,
            reference=reference,
            usage_reference=reference,
            description=description or "Usage",
            at=at,
        )


def transfer_to_credit(
    *, wallet: Wallet | int, amount, actor: Actor, at: datetime | None = None
) -> WalletTransaction:
    """Move wallet money to the account as credit that never expires (``CRED`` +)."""
    with transaction.atomic():
        account, locked = lock_wallet_and_account(wallet)
        require_active(locked)
        money = positive(amount, locked.currency)
        if money > locked.available:
            raise insufficient(locked, "transfer", money)
        tx = record(
            locked,
            TxKind.TRANSFER_TO_CREDIT,
            money,
            actor,
            consumed=money,
            description="Transferred to account credit",
            at=at,
        )
        ledger.post(
            account=account,
            postings=[
                Posting(
                    kind=EntryKind.CREDIT,
                    amount=money,
                    reference=f"WLT-{locked.pk}-{tx.seq}",
                    description=f"Credit from wallet '{locked.name}'",
                    source=tx,
                )
            ],
            actor=actor,
            at=at,
        )
        return tx


def close_wallet(*, wallet: Wallet | int, actor: Actor) -> Wallet:
    """Close an empty wallet (nothing available, nothing held)."""
    with transaction.atomic():
        locked = lock_wallet(wallet)
        require_active(locked)
        if locked.available.amount or locked.held.amount:
            raise StateConflict(
                f"Wallet '{locked.name}' still holds {format_money(locked.available)} available "
                f"and {format_money(locked.held)} held; transfer or release it first.",
                field="wallet",
            )
        locked.status = WalletStatus.CLOSED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        return locked
