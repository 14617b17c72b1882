"""Writing events: ``emit`` inside the transaction of the effect, so a rolled-back
operation leaves no event and a committed one exactly one.

Lock order: the account's ``EventCounter`` row is taken by ``emit`` and held until
commit; it comes after every other lock of ``ledger.locks`` (like the numbering
counters), so call ``emit`` once the operation's rows are locked and written.
"""

import json
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model

from . import prepared, rendering
from .models import ConsumedEvent, Event, EventCounter, EventType

_NEXT_SEQ = (
    "INSERT INTO {table} (account_id, last_seq) VALUES (%s, 1) "
    "ON CONFLICT (account_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
    "RETURNING last_seq"
)
# PostgreSQL: the counter's upsert and the event's insert in ONE prepared statement. The
# upsert comes first and locks the counter row until commit (as ``next_seq`` does): the
# insert takes the number the upsert returned, so two transactions of one account never
# share a number and a rollback gives it back. (No ``SELECT ... FOR UPDATE`` CTE: a CTE
# reading a row another transaction has locked then updated would see its old version;
# see wallets/services/drawdown_sql.py.)
_WRITE_PG = (
    "WITH c AS (INSERT INTO events_eventcounter (account_id, last_seq) "
    "VALUES (%(account)s, 1) ON CONFLICT (account_id) DO UPDATE "
    "SET last_seq = events_eventcounter.last_seq + 1 RETURNING last_seq) "
    "INSERT INTO events_event (id, type, account_id, seq, created_at, payload) "
    "SELECT %(id)s::uuid, %(type)s::varchar, %(account)s::bigint, c.last_seq, "
    "%(at)s::timestamptz, %(payload)s::jsonb FROM c RETURNING seq"
)


_TYPES = frozenset(EventType.values)


def _pk(obj: Model | int) -> int:
    return obj.pk if isinstance(obj, Model) else int(obj)


def next_seq(account_id: int) -> int:
    """The account's next event number: one upsert that locks its counter row until
    commit (PostgreSQL and SQLite ≥ 3.35 both speak ``ON CONFLICT ... RETURNING``)."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQ.format(table=EventCounter._meta.db_table), [account_id])
        return cursor.fetchone()[0]


def _new_event(type: str, account_id: int, payload: dict) -> tuple[Event, dict]:
    event = Event(type=type, account_id=account_id, payload=payload)
    params = {
        "account": account_id,
        "id": event.id,
        "type": type,
        "at": event.created_at,
        "payload": json.dumps(payload),
    }
    return event, params


def _written(event: Event, seq: int) -> Event:
    event.seq = seq
    event._state.adding = False
    event._state.db = connection.alias
    return event


def _write(type: str, account_id: int, payload: dict) -> Event:
    """Number and insert one event. PostgreSQL: one prepared statement (``_WRITE_PG``),
    the payload stored as the JSON text ``JSONField`` would have written; elsewhere the
    counter's upsert, then the ORM's insert."""
    if connection.vendor != "postgresql":
        return Event.objects.create(
            type=type, account_id=account_id, seq=next_seq(account_id), payload=payload
        )
    event, params = _new_event(type, account_id, payload)
    return _written(event, prepared.one_value(connection, _WRITE_PG, params))


def outbox_enabled() -> bool:
    """``BILLFOLD_OUTBOX = False`` is for the benchmark's "outbox off" runs only (a
    Django setting, not an environment variable: production always writes events)."""
    return getattr(settings, "BILLFOLD_OUTBOX", True)


def _require_emittable(types: set[str], call: str) -> None:
    """Known types, inside the effect's transaction: outside one the event and its
    effect could be committed apart, which is what the outbox exists to prevent."""
    unknown = sorted(types - _TYPES)
    if unknown:
        raise ValueError(f"events: unknown event type {unknown[0]!r}; one of {EventType.values}.")
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            f"events: {call} outside transaction.atomic(); emit inside the transaction of "
            "the effect."
        )


def emit(
    type: str, *, account: Model | int, objects: Mapping[str, Model | dict | None]
) -> Event | None:
    """Write one event of ``type`` for ``account`` with ``objects`` rendered as the API
    shows them (``{"invoice": invoice, "payment": payment}``; a dict is taken as is).

    Must run inside the effect's ``transaction.atomic()``: outside one the event and its
    effect could be committed apart, which is what the outbox exists to prevent.
    """
    _require_emittable({type}, f"emit({type!r})")
    if not outbox_enabled():
        return None
    payload = {
        name: obj if isinstance(obj, dict) or obj is None else rendering.render(obj)
        for name, obj in objects.items()
    }
    return _write(type, _pk(account), payload)


def emit_many(events: list[tuple[str, int, dict]]) -> list[Event]:
    """Write many events at once — ``(type, account id, payload)``, payloads rendered
    already (``rendering.render_now``) — in the order given: for a batch that did many
    operations in one transaction (the billing run). One statement numbers every
    account's events (the counters' upsert, in account order, each row locked until
    commit as ``emit``'s is), one inserts them; each account's events get consecutive
    numbers, in the order given."""
    _require_emittable({t for t, _a, _p in events}, "emit_many()")
    if not events or not outbox_enabled():
        return []
    counts: dict[int, int] = {}
    for _type, account_id, _payload in events:
        counts[account_id] = counts.get(account_id, 0) + 1
    table = EventCounter._meta.db_table
    rows = ", ".join(["(%s, %s)"] * len(counts))
    sql = (
        f"INSERT INTO {table} (account_id, last_seq) VALUES {rows} "
        f"ON CONFLICT (account_id) DO UPDATE SET last_seq = {table}.last_seq + excluded.last_seq "
        "RETURNING account_id, last_seq"
    )
    params = [v for account_id in sorted(counts) for v in (account_id, counts[account_id])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        last = dict(cursor.fetchall())
    next_seq_of = {a: last[a] - counts[a] + 1 for a in counts}
    written = []
    for type, account_id, payload in events:
        written.append(
            Event(type=type, account_id=account_id, seq=next_seq_of[account_id], payload=payload)
        )
        next_seq_of[account_id] += 1
    return Event.objects.bulk_create(written)


def emit_invoice_overdue(invoice: Model) -> Event | None:
    """For the overdue job (another piece of work): the invoice has passed its due date."""
    return emit(EventType.INVOICE_OVERDUE, account=invoice.account_id, objects={"invoice": invoice})


def emit_wallet_low_balance(wallet: Model) -> Event | None:
    """For wallet alerts (another piece of work): available fell below the threshold."""
    return emit(EventType.WALLET_LOW_BALANCE, account=wallet.account_id, objects={"wallet": wallet})


def emit_wallet_depleted(wallet: Model) -> Event | None:
    """For wallet alerts (another piece of work): available reached zero."""
    return emit(EventType.WALLET_DEPLETED, account=wallet.account_id, objects={"wallet": wallet})


def mark_consumed(*, consumer: str, events: Iterable[Event]) -> int:
    """Mark ``events`` as taken by ``consumer`` (in the consumer's transaction, with
    whatever it wrote for them); an event already marked is left as it is."""
    rows = [ConsumedEvent(consumer=consumer, event=event) for event in events]
    created = ConsumedEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
