"""PostgreSQL: a usage drawdown as ONE statement (used by ``core.usage_drawdown``).

``STATEMENT`` does, in one round trip:

1. move the wallet — ``UPDATE ... SET consumed = consumed + amount, last_seq = last_seq
   + 1`` — only if it is active, in the amount's currency, has at least the amount
   available and has no drawdown with this usage reference yet; ``RETURNING`` the
   balances after it. The UPDATE both locks the row and decides on it: under read
   committed a concurrent change makes PostgreSQL re-check the WHERE on the latest
   row version and compute the SET from it (the documented behaviour of UPDATE);
2. append the ``drawdown`` transaction with those after-balances;
3. flip the wallet's alert flags (``low_balance_alert_seq``, ``depleted_alert_seq``: NULL
   while armed) in the same UPDATE when this drawdown crosses them, and return whether it
   did (``low_alert``, ``depleted_alert``). The flags are computed, like the balances,
   from the row version the UPDATE locked, so of racing drawdowns exactly one crosses.
   Inside a caller's transaction, ``wallets.services.alerts.announce`` then writes the
   event in that transaction.

Outside a transaction (autocommit) the statement commits on its own, so there it may not
cross an armed alert (``may_cross`` false): such a drawdown changes nothing and the
caller's locked path (``core._drawdown_locked``, in a transaction) makes it with its
event. That happens once per crossing; every other drawdown stays one statement and one
round trip (an earlier form opened a transaction around every autocommit drawdown —
BEGIN and COMMIT round trips — and fell to 0.41× of the baseline in ``make bench``).

It returns the new transaction's row, or nothing — having changed nothing — when the
wallet refused (closed, other currency, not enough available) or the reference was
already drawn; the caller then explains under a lock. Two calls racing with the same new
usage reference: the second one's INSERT hits the unique ``(wallet, usage_reference)``
and the whole statement fails, changing nothing (``draw`` then returns None and the
locked path returns the first drawdown). The CHECK constraints on the wallet and the log
stay the last line of defence against an overdraft.

Why not ``SELECT ... FOR NO KEY UPDATE`` in a CTE feeding the INSERT and then an UPDATE
from it (this file's first form): on PostgreSQL 15 that combination computed the new
balances from a stale row version when a concurrent transaction had locked the row and
then updated it in a second statement (the ORM services do: ``ledger.locks.lock_row``,
then ``save``) — ``tests/concurrency/test_wallet_concurrency.py`` hit the wallet CHECK
about one run in three. The UPDATE-first form never did in the same test.

Sent prepared (``ledger.prepared``: parsed and planned once per connection); the INSERT's
columns come from the model (a new field this file does not place is an error at import).
"""

from django.db import IntegrityError, transaction
from moneyed import Money

from ledger import prepared

from ..models import TxKind, Wallet, WalletStatus, WalletTransaction

WALLET_TABLE = Wallet._meta.db_table
TX_TABLE = WalletTransaction._meta.db_table

_VALUES = {
    "wallet_id": "w.id",
    "account_id": "w.account_id",
    "seq": "w.last_seq",
    "at": "%(at)s::timestamptz",
    "kind": "%(kind)s::text",
    "currency": "w.currency",
    "amount": "%(amount)s::numeric",
    "total_after": "w.total",
    "consumed_after": "w.consumed",
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
    UPDATE {WALLET_TABLE}
    SET consumed = consumed + %(amount)s::numeric, last_seq = last_seq + 1,
        low_balance_alert_seq = CASE
            WHEN low_balance_alert_seq IS NULL
             AND total - consumed - held - %(amount)s::numeric < low_balance_threshold
            THEN last_seq + 1 ELSE low_balance_alert_seq END,
        depleted_alert_seq = CASE
            WHEN depleted_alert_seq IS NULL AND total - consumed - held = %(amount)s::numeric
            THEN last_seq + 1 ELSE depleted_alert_seq END
    WHERE id = %(wallet)s::bigint AND status = %(active)s::text
      AND currency = %(currency)s::text
      AND total - consumed - held >= %(amount)s::numeric
      AND (%(may_cross)s::boolean OR NOT COALESCE(
          (low_balance_alert_seq IS NULL
           AND total - consumed - held - %(amount)s::numeric < low_balance_threshold)
          OR (depleted_alert_seq IS NULL AND total - consumed - held = %(amount)s::numeric),
          false))
      AND NOT EXISTS (
          SELECT 1 FROM {TX_TABLE}
          WHERE wallet_id = %(wallet)s::bigint AND usage_reference = %(reference)s::text
      )
    RETURNING id, account_id, currency, total, consumed, held, last_seq,
        low_balance_alert_seq IS NOT DISTINCT FROM last_seq AS low_alert,
        depleted_alert_seq IS NOT DISTINCT FROM last_seq AS depleted_alert
), t AS (
    INSERT INTO {TX_TABLE} ({", ".join(f.column for f in _COLUMNS)})
    SELECT {", ".join(_VALUES[f.attname] for f in _COLUMNS)} FROM w
    RETURNING {", ".join(_RETURNED)}
)
SELECT t.*, w.low_alert, w.depleted_alert FROM t CROSS JOIN w
"""

USAGE_REFERENCE_UNIQUE = "wallet_usage_reference_unique"


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


_MONEY = frozenset(("amount", "total_after", "consumed_after", "held_after"))
_FIELDS = WalletTransaction._meta.concrete_fields


def draw_and_alert(
    connection, *, wallet_id, money: Money, reference, description, actor, at, announce
):
    """Run ``STATEMENT``, prepared, on Django's ``connection`` (``ledger.prepared``);
    the new transaction, or None. When the statement crossed an alert it calls
    ``announce(tx, low, depleted)`` in the caller's transaction; outside one the statement
    never crosses (None: the locked path draws it with its event), so an alert's event
    and its drawdown always commit together (docs/RULES.md "Wallet alerts")."""
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
        # Outside a transaction the statement commits on its own, so it may not cross an
        # alert there (the event must commit with it): such a drawdown changes nothing
        # and the caller's locked path makes it, in a transaction, with its event. Rare
        # (once per crossing); every other drawdown stays one statement.
        "may_cross": connection.in_atomic_block,
    }
    try:
        if connection.in_atomic_block:  # a failed statement must not abort the caller's
            with transaction.atomic():  # transaction: a savepoint around it
                rows = prepared.fetch(connection, STATEMENT, params)
            return _result(connection, rows, money, announce)
        return _result(connection, prepared.fetch(connection, STATEMENT, params), money, None)
    except IntegrityError as exc:
        if _constraint(exc) != USAGE_REFERENCE_UNIQUE:
            raise
        return None  # the same reference drawn by a concurrent call: the locked path answers


def _result(connection, rows, money: Money, announce):
    if not rows:
        return None
    [row] = rows
    *row, low, depleted = row
    currency = str(money.currency)
    values = [
        Money(value, currency) if field.attname in _MONEY else value
        for field, value in zip(_FIELDS, row, strict=True)
    ]
    tx = WalletTransaction.from_db(connection.alias, None, values)
    if low or depleted:
        announce(tx, bool(low), bool(depleted))
    return tx
