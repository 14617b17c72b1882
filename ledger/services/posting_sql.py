"""PostgreSQL: a posting as ONE statement (used by ``ledger.services.posting``).

The statement locks the account row (``FOR NO KEY UPDATE``, as ``ledger.locks`` does),
and in the same round trip numbers the new entries ``last_seq + 1 ...``, computes each
``balance_after`` and each ``digest`` (the hash chain of ``ledger.chain``, with
``sha256()``, from the account's ``last_digest``), inserts them, and moves the account's
``balance``, ``last_seq``, ``last_posted_at`` and ``last_digest``. It returns one row per
entry (id, seq, posted_at, balance_after, digest) — or none, having changed nothing,
when the account is missing, in another currency, or posted to after a back-dated ``at``.

Only seq, posted_at and balance_after are decided under the lock; Python formats the rest
of each entry's canonical text beforehand (``chain.parts``), so the statement formats
three fields and hashes. There are two texts: one posting (scalar parameters, the usual
case) and several (arrays, ``unnest(...) WITH ORDINALITY``, a recursive step per link).
Each text is fixed and sent prepared (``ledger.prepared``), so PostgreSQL parses and
plans it once per connection.

The INSERT's columns are the model's concrete fields: a new field that this file does
not place is an error at import, never a column left out.
"""

from .. import chain, prepared
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

# The canonical text of an entry (``ledger.chain``): Python formats what it knows before
# the lock (``chain.parts``); the statement adds seq, posted_at and balance_after.
_CONTENT = chain.sql_content_from_parts(
    prefix="%(prefix)s::text",
    seq="r.seq",
    posted_at_text="acc.posted_at_text",
    middle="r.middle",
    balance_after="r.balance_after",
    tail="r.tail",
)

_ACC = f"""
acc AS (
    SELECT id, currency, balance, last_seq, last_digest, posted_at,
           CASE WHEN posted_at = %(when)s::timestamptz THEN %(when_text)s::text
                ELSE {chain.sql_time("posted_at")} END AS posted_at_text
    FROM (
        SELECT id, currency, balance, last_seq, last_digest,
               GREATEST(COALESCE(last_posted_at, %(when)s::timestamptz), %(when)s::timestamptz)
                   AS posted_at
        FROM {ACCOUNT_TABLE}
        WHERE id = %(account)s::bigint AND currency = %(currency)s::text
          AND (NOT %(strict)s::boolean OR last_posted_at IS NULL
               OR last_posted_at <= %(when)s::timestamptz)
        FOR NO KEY UPDATE
    ) AS locked
)"""

# One posting: scalar parameters, one link.
_ONE = """
r AS (
    SELECT 1::bigint AS ord, %(kind)s::text AS kind, %(reference)s::text AS reference,
           %(description)s::text AS description, %(method)s::text AS method,
           %(debit)s::numeric(19,4) AS debit, %(credit)s::numeric(19,4) AS credit,
           %(invoice)s::bigint AS invoice_id, %(source_type)s::bigint AS source_type_id,
           %(source)s::bigint AS source_id, %(middle)s::text AS middle, %(tail)s::text AS tail,
           acc.last_seq + 1 AS seq,
           (acc.balance + %(credit)s::numeric - %(debit)s::numeric)::numeric(19,4)
               AS balance_after
    FROM acc
)"""
_ONE_LINK = f"""
link AS (
    SELECT r.ord, {chain.sql_link("decode(acc.last_digest, 'hex')", _CONTENT)} AS digest
    FROM r CROSS JOIN acc
)"""

# Several postings: arrays (the text is the same for any number), a recursive step per
# link, from the account's last digest.
_MANY = """
r AS (
    SELECT p.ord, p.kind, p.reference, p.description, p.method,
           p.debit::numeric(19,4) AS debit, p.credit::numeric(19,4) AS credit,
           p.invoice_id, p.source_type_id, p.source_id, p.middle, p.tail,
           acc.last_seq + p.ord AS seq,
           (acc.balance + sum(p.credit - p.debit) OVER (ORDER BY p.ord))::numeric(19,4)
               AS balance_after
    FROM unnest(%(kinds)s::text[], %(references)s::text[], %(descriptions)s::text[],
                %(methods)s::text[], %(debits)s::numeric[], %(credits)s::numeric[],
                %(invoices)s::bigint[], %(source_types)s::bigint[], %(sources)s::bigint[],
                %(middles)s::text[], %(tails)s::text[])
         WITH ORDINALITY AS p(kind, reference, description, method, debit, credit,
                              invoice_id, source_type_id, source_id, middle, tail, ord),
         acc
)"""
_MANY_LINKS = f"""
link (ord, digest) AS (
    SELECT 0::bigint, decode(last_digest, 'hex') FROM acc
    UNION ALL
    SELECT r.ord, {chain.sql_link("link.digest", _CONTENT)}
    FROM link JOIN r ON r.ord = link.ord + 1 CROSS JOIN acc
)"""
# Benchmarks only (``bench/posting_bench.py`` measures what the chain costs): no link,
# every digest empty.
_NO_LINK = """
link (ord, digest) AS (SELECT ord, ''::bytea FROM r)"""

_WRITE = f"""
ins AS (
    INSERT INTO {ENTRY_TABLE} ({", ".join(f.column for f in _COLUMNS)})
    SELECT {", ".join(_VALUES[f.attname] for f in _COLUMNS)}
    FROM r JOIN link ON link.ord = r.ord CROSS JOIN acc
    RETURNING id, seq, posted_at, balance_after, digest
),
moved AS (
    UPDATE {ACCOUNT_TABLE} AS a
    SET last_seq = last.seq, balance = last.balance_after, last_posted_at = last.posted_at,
        last_digest = last.digest
    FROM (SELECT * FROM ins ORDER BY seq DESC LIMIT 1) AS last
    WHERE a.id = %(account)s::bigint
)
SELECT id, seq, posted_at, balance_after, digest FROM ins ORDER BY seq"""


def build_statement(*, many: bool, chained: bool = True) -> str:
    """The posting statement for one posting or several, with or without the chain."""
    if many:
        links = _MANY_LINKS if chained else _NO_LINK
        return f"WITH RECURSIVE {_ACC},{_MANY},{links},{_WRITE}"
    return f"WITH {_ACC},{_ONE},{_ONE_LINK if chained else _NO_LINK},{_WRITE}"


STATEMENTS = {many: build_statement(many=many) for many in (False, True)}


def _params(*, account_id, currency, when, strict, lines, parts, actor) -> dict:
    """The statement's parameters: ``lines`` are ``posting._Line``, ``parts`` their
    ``chain.parts`` (the prefix is the same for every line of one account)."""
    params = {
        "account": account_id,
        "currency": currency,
        "when": when,
        "when_text": chain.time_text(when),
        "strict": strict,
        "prefix": parts[0][0],
        "actor_id": actor.user_id,
        "actor_label": actor.label[:150],
    }
    columns = {
        "kind": [line.kind for line in lines],
        "reference": [line.reference for line in lines],
        "description": [line.description for line in lines],
        "method": [line.method for line in lines],
        "debit": [line.debit for line in lines],
        "credit": [line.credit for line in lines],
        "invoice": [line.invoice.pk if line.invoice is not None else None for line in lines],
        "source_type": [line.source_type_id for line in lines],
        "source": [line.source_id for line in lines],
        "middle": [middle for _prefix, middle, _tail in parts],
        "tail": [tail for _prefix, _middle, tail in parts],
    }
    if len(lines) == 1:
        return params | {name: values[0] for name, values in columns.items()}
    return params | {f"{name}s": values for name, values in columns.items()}


def execute(connection, **posting) -> list[tuple]:
    """Run the posting statement, prepared, on Django's ``connection``
    (``ledger.prepared``)."""
    sql = STATEMENTS[len(posting["lines"]) > 1]
    return prepared.fetch(connection, sql, _params(**posting))
