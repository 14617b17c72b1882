"""PostgreSQL: a posting as ONE statement (used by ``ledger.services.posting``).

``STATEMENT`` locks the account row (``FOR NO KEY UPDATE``, as ``ledger.locks`` does),
and in the same round trip numbers the new entries ``last_seq + 1 ...``, computes each
``balance_after`` (a running sum over the postings) and each ``digest`` (the hash chain
of ``ledger.chain``, with ``sha256()``: a recursive step per entry, starting from the
account's ``last_digest``), inserts them, and moves the account's ``balance``,
``last_seq``, ``last_posted_at`` and ``last_digest``. It returns one row per entry (id,
seq, posted_at, balance_after, digest) — or none, having changed nothing, when the
account is missing, in another currency, or posted to after a back-dated ``at``.

The postings travel as arrays (``unnest(...) WITH ORDINALITY``), so the text is the
same for any number of postings: psycopg prepares it on the server after a few
executions on a connection (the statement is sent through a server-side-binding
cursor), and PostgreSQL then skips parsing and planning it.

The INSERT's columns are the model's concrete fields: a new field that this file does
not place is an error at import, never a column left out.
"""

from .. import chain
from ..models import Account, LedgerEntry

ACCOUNT_TABLE = Account._meta.db_table
ENTRY_TABLE = LedgerEntry._meta.db_table

# What each entry column is, in the statement's terms: ``acc`` is the locked account
# row, ``r`` a posting with its seq and balance, ``link`` its link in the chain.
_VALUES = {
    "account_id": "acc.id",
    "seq": "r.seq",
    "posted_at": "acc.posted_at",
    "kind": "r.kind",
    "reference": "r.reference",
    "description": "r.description",
    "currency": "acc.currency",
    "debit": "r.debit",
    "credit": "r.credit",
    "balance_after": "r.balance_after",
    "method": "r.method",
    "invoice_id": "r.invoice_id",
    "source_type_id": "r.source_type_id",
    "source_id": "r.source_id",
    "actor_id": "%(actor_id)s::bigint",
    "actor_label": "%(actor_label)s::text",
    "digest": "encode(link.digest, 'hex')",
}
_COLUMNS = [f for f in LedgerEntry._meta.concrete_fields if not f.primary_key]
if {f.attname for f in _COLUMNS} != set(_VALUES):
    raise RuntimeError(
        "ledger.services.posting_sql: LedgerEntry's columns changed "
        f"({sorted({f.attname for f in _COLUMNS} ^ set(_VALUES))}); place them in _VALUES."
    )

_CONTENT = chain.sql_content({name: _VALUES[name] for name in chain.FIELD_NAMES})

STATEMENT = f"""
WITH RECURSIVE
acc AS (
    SELECT id, currency, balance, last_seq, last_digest,
           GREATEST(COALESCE(last_posted_at, %(when)s::timestamptz), %(when)s::timestamptz)
               AS posted_at
    FROM {ACCOUNT_TABLE}
    WHERE id = %(account)s::bigint AND currency = %(currency)s::text
      AND (NOT %(strict)s::boolean OR last_posted_at IS NULL
           OR last_posted_at <= %(when)s::timestamptz)
    FOR NO KEY UPDATE
),
r AS (
    SELECT p.ord, p.kind, p.reference, p.description, p.method,
           p.debit::numeric(19,4) AS debit, p.credit::numeric(19,4) AS credit,
           p.invoice_id, p.source_type_id, p.source_id,
           acc.last_seq + p.ord AS seq,
           (acc.balance + sum(p.credit - p.debit) OVER (ORDER BY p.ord))::numeric(19,4)
               AS balance_after
    FROM unnest(%(kinds)s::text[], %(references)s::text[], %(descriptions)s::text[],
                %(methods)s::text[], %(debits)s::numeric[], %(credits)s::numeric[],
                %(invoices)s::bigint[], %(source_types)s::bigint[], %(sources)s::bigint[])
         WITH ORDINALITY AS p(kind, reference, description, method, debit, credit,
                              invoice_id, source_type_id, source_id, ord),
         acc
),
link (ord, digest) AS (
    SELECT 0::bigint, decode(last_digest, 'hex') FROM acc
    UNION ALL
    SELECT r.ord, {chain.sql_link("link.digest", _CONTENT)}
    FROM link JOIN r ON r.ord = link.ord + 1 CROSS JOIN acc
),
ins AS (
    INSERT INTO {ENTRY_TABLE} ({", ".join(f.column for f in _COLUMNS)})
    SELECT {", ".join(_VALUES[f.attname] for f in _COLUMNS)}
    FROM r JOIN link ON link.ord = r.ord CROSS JOIN acc
    RETURNING id, seq, posted_at, balance_after, digest
),
moved AS (
    UPDATE {ACCOUNT_TABLE} AS a
    SET last_seq = acc.last_seq + %(count)s::bigint,
        balance = (SELECT balance_after FROM ins ORDER BY seq DESC LIMIT 1),
        last_posted_at = acc.posted_at,
        last_digest = (SELECT digest FROM ins ORDER BY seq DESC LIMIT 1)
    FROM acc WHERE a.id = acc.id
)
SELECT id, seq, posted_at, balance_after, digest FROM ins ORDER BY seq
"""


def execute(connection, *, account_id, currency, when, strict, lines, actor) -> list[tuple]:
    """Run ``STATEMENT`` on Django's ``connection`` through a server-side-binding
    psycopg cursor (so it can be prepared), wrapped as Django wraps its own cursors:
    errors become ``django.db`` errors, queries are logged when logging is on, and a
    broken transaction is refused before anything is sent."""
    params = {
        "account": account_id,
        "currency": currency,
        "when": when,
        "strict": strict,
        "count": len(lines),
        "kinds": [line.kind for line in lines],
        "references": [line.reference for line in lines],
        "descriptions": [line.description for line in lines],
        "methods": [line.method for line in lines],
        "debits": [line.debit for line in lines],
        "credits": [line.credit for line in lines],
        "invoices": [line.invoice.pk if line.invoice is not None else None for line in lines],
        "source_types": [line.source_type_id for line in lines],
        "sources": [line.source_id for line in lines],
        "actor_id": actor.user_id,
        "actor_label": actor.label[:150],
    }
    import psycopg  # PostgreSQL only

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        cursor.execute(STATEMENT, params)
        return cursor.fetchall()
