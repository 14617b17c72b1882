"""PostgreSQL: a usage drawdown as ONE statement (used by ``core.usage_drawdown``).

``STATEMENT`` does, in one round trip:

1. lock the wallet row (``FOR NO KEY UPDATE``, as ``ledger.locks`` does) only if it is
   active, in the amount's currency and has at least the amount available — read
   committed re-reads a row a concurrent drawdown just changed, so the balances seen
   are the latest;
2. append the ``drawdown`` transaction with the balances after it, unless the wallet
   already has one with this usage reference (``ON CONFLICT ... DO NOTHING`` on the
   unique ``(wallet, usage_reference)``: the idempotency check, in the same statement
   and without an error that would abort the caller's transaction);
3. move the wallet's ``consumed`` and ``last_seq`` only if the transaction was added.

It returns the new transaction's row, or nothing — having changed nothing — when the
wallet refused (closed, other currency, not enough available) or the reference was
already drawn; the caller then explains under a lock. The CHECK constraints on the
wallet and the log stay the last line of defence against an overdraft.

Sent prepared (``ledger.prepared``: parsed and planned once per connection); the INSERT's
columns come from the model (a new field this
file does not place is an error at import).
"""

from moneyed import Money

from ledger import prepared

from ..models import TxKind, Wallet, WalletStatus, WalletTransaction

WALLET_TABLE = Wallet._meta.db_table
TX_TABLE = WalletTransaction._meta.db_table

_VALUES = {
    "wallet_id": "w.id",
    "account_id": "w.account_id",
    "seq": "w.last_seq + 1",
    "at": "%(at)s::timestamptz",
    "kind": "%(kind)s::text",
    "currency": "w.currency",
    "amount": "%(amount)s::numeric",
    "total_after": "w.total",
    "consumed_after": "w.consumed + %(amount)s::numeric",
    "held_after": "w.held",
    "reference": "%(reference)s::text",
    "usage_reference": "%(reference)s::text",
    "description": "%(description)s::text",
    "invoice_id": "NULL::bigint",
    "hold_id": "NULL::bigint",
    "source_type_id": "NULL::integer",
    "source_id": "NULL::bigint",
    "actor_id": "%(actor_id)s::integer",
    "actor_label": "%(actor_label)s::text",
}
_COLUMNS = [f for f in WalletTransaction._meta.concrete_fields if not f.primary_key]
if {f.attname for f in _COLUMNS} != set(_VALUES):
    raise RuntimeError(
        "wallets.services.drawdown_sql: WalletTransaction's columns changed "
        f"({sorted({f.attname for f in _COLUMNS} ^ set(_VALUES))}); place them in _VALUES."
    )
_RETURNED = [f.column for f in WalletTransaction._meta.concrete_fields]

STATEMENT = f"""
WITH w AS (
    SELECT id, account_id, currency, total, consumed, held, last_seq
    FROM {WALLET_TABLE}
    WHERE id = %(wallet)s::bigint AND status = %(active)s::text
      AND currency = %(currency)s::text
      AND total - consumed - held >= %(amount)s::numeric
    FOR NO KEY UPDATE
),
tx AS (
    INSERT INTO {TX_TABLE} ({", ".join(f.column for f in _COLUMNS)})
    SELECT {", ".join(_VALUES[f.attname] for f in _COLUMNS)} FROM w
    ON CONFLICT ON CONSTRAINT wallet_usage_reference_unique DO NOTHING
    RETURNING {", ".join(_RETURNED)}
),
moved AS (
    UPDATE {WALLET_TABLE} AS x
    SET consumed = tx.consumed_after, last_seq = tx.seq
    FROM tx WHERE x.id = tx.wallet_id
)
SELECT {", ".join(_RETURNED)} FROM tx
"""

_MONEY = frozenset(("amount", "total_after", "consumed_after", "held_after"))
_FIELDS = WalletTransaction._meta.concrete_fields


def draw(connection, *, wallet_id, money: Money, reference, description, actor, at):
    """Run ``STATEMENT``, prepared, on Django's ``connection`` (``ledger.prepared``);
    the new transaction, or None."""
    params = {
        "wallet": wallet_id,
        "active": WalletStatus.ACTIVE.value,
        "currency": str(money.currency),
        "amount": money.amount,
        "kind": TxKind.DRAWDOWN.value,
        "reference": reference,
        "description": description,
        "actor_id": actor.user_id,
        "actor_label": actor.label[:150],
        "at": at,
    }
    rows = prepared.fetch(connection, STATEMENT, params)
    if not rows:
        return None
    [row] = rows
    currency = str(money.currency)
    values = [
        Money(value, currency) if field.attname in _MONEY else value
        for field, value in zip(_FIELDS, row, strict=True)
    ]
    return WalletTransaction.from_db(connection.alias, None, values)
