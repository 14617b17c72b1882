"""Each account's ledger is a hash chain (issue 12, item 6).

Every entry stores ``digest = SHA-256(previous digest || content)``: ``content`` is the
entry's canonical text (below), ``previous digest`` the 32 bytes of the account's
entry before it (32 zero bytes, ``GENESIS``, before its first). The account row keeps
the last digest (``Account.last_digest``). Both are written by the posting service under
the account's lock, so an entry changed or removed by someone who disabled the
append-only trigger no longer matches the chain: ``verify_ledger`` recomputes it and
names the first broken entry.

The canonical text is written here once, twice over: in Python (``content``: SQLite,
verification, migrations) and as a SQL expression (``sql_content``: the PostgreSQL
posting statement and bulk loads) that gives the same bytes. It is version ``v1`` and
never changes (``tests/ledger/test_hash_chain.py`` pins a known digest); a new field or
format would be ``v2`` beside it. Fields, in order, separated by ``|``:

- integers (ids, seq) in decimal, ``""`` for NULL;
- text as ``<length in characters>:<text>`` (so ``|`` inside text is unambiguous);
- money at the storage precision, 4 places: ``-12.5000``;
- ``posted_at`` in UTC to the microsecond: ``2026-12-01T09:30:00.000001``.
"""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

VERSION = "v1"
GENESIS = "0" * 64
_STORAGE = Decimal("0.0001")

# (field attname, kind) in digest order: every stored column of an entry but its id and
# its digest.
FIELDS = (
    ("account_id", "int"),
    ("seq", "int"),
    ("posted_at", "time"),
    ("kind", "text"),
    ("reference", "text"),
    ("description", "text"),
    ("currency", "text"),
    ("debit", "money"),
    ("credit", "money"),
    ("balance_after", "money"),
    ("method", "text"),
    ("invoice_id", "int"),
    ("source_type_id", "int"),
    ("source_id", "int"),
    ("actor_id", "int"),
    ("actor_label", "text"),
)
FIELD_NAMES = tuple(name for name, _kind in FIELDS)


def _int(value) -> str:
    return "" if value is None else str(int(value))


def _text(value: str) -> str:
    return f"{len(value)}:{value}"


def _money(value) -> str:
    amount = getattr(value, "amount", value)  # a Money or a Decimal
    return format((Decimal(amount) + 0).quantize(_STORAGE), "f")  # + 0: never "-0.0000"


def _time(value: datetime) -> str:
    t = value.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T"
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}"
    )


def time_text(value: datetime) -> str:
    """``posted_at`` as the canonical text writes it."""
    return _time(value)


_FORMAT = {"int": _int, "text": _text, "money": _money, "time": _time}
_FORMATTERS = tuple((name, _FORMAT[kind]) for name, kind in FIELDS)


_FORMAT_IN_ORDER = tuple(fmt for _name, fmt in _FORMATTERS)


def content(values: Mapping) -> str:
    """The canonical text of one entry from its field values (by attname)."""
    return "|".join([VERSION, *(fmt(values[name]) for name, fmt in _FORMATTERS)])


def content_of_row(row: Sequence) -> str:
    """``content`` of a row whose first values are the fields in ``FIELD_NAMES`` order."""
    return "|".join([VERSION, *(fmt(v) for fmt, v in zip(_FORMAT_IN_ORDER, row, strict=False))])


# What the posting service knows before it takes the lock, and what only the lock decides
# (seq, posted_at, balance_after): the canonical text is
#     prefix + seq + "|" + posted_at + "|" + middle + "|" + balance_after + "|" + tail
# so the posting statement formats just those three in SQL (``sql_content_from_parts``).
_MIDDLE = FIELD_NAMES[FIELD_NAMES.index("kind") : FIELD_NAMES.index("balance_after")]
_TAIL = FIELD_NAMES[FIELD_NAMES.index("balance_after") + 1 :]

if ("account_id", "seq", "posted_at", *_MIDDLE, "balance_after", *_TAIL) != FIELD_NAMES:
    raise RuntimeError("ledger.chain: FIELDS must start with account_id, seq, posted_at")


_BY_NAME = dict(_FORMATTERS)
_MIDDLE_FORMATS = tuple((name, _BY_NAME[name]) for name in _MIDDLE)
_TAIL_FORMATS = tuple((name, _BY_NAME[name]) for name in _TAIL)


def parts(values: Mapping) -> tuple[str, str, str]:
    """``(prefix, middle, tail)`` of the canonical text, from every field but seq,
    posted_at and balance_after."""
    return (
        f"{VERSION}|{_int(values['account_id'])}|",
        "|".join([fmt(values[name]) for name, fmt in _MIDDLE_FORMATS]),
        "|".join([fmt(values[name]) for name, fmt in _TAIL_FORMATS]),
    )


def link(previous: str, text: str) -> str:
    """The digest (hex) of an entry whose canonical text is ``text``, after ``previous``."""
    return hashlib.sha256(bytes.fromhex(previous) + text.encode()).hexdigest()


def entry_digest(previous: str, values: Mapping) -> str:
    return link(previous, content(values))


# --- the same text in SQL (PostgreSQL) -----------------------------------------------

_SQL_FORMAT = {
    "int": "COALESCE(({e})::text, '')",
    "text": "length({e})::text || ':' || ({e})",
    "money": "(({e})::numeric(19,4))::text",
    "time": "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
}


def sql_content(exprs: Mapping[str, str]) -> str:
    """A PostgreSQL text expression equal to ``content`` for the entry whose fields are
    the SQL expressions ``exprs`` (by attname, one for each of ``FIELDS``)."""
    missing = set(FIELD_NAMES) - set(exprs)
    if missing:
        raise ValueError(f"sql_content: no expression for {sorted(missing)}")
    parts = [_SQL_FORMAT[kind].format(e=exprs[name]) for name, kind in FIELDS]
    return f"'{VERSION}|' || " + " || '|' || ".join(f"({p})" for p in parts)


def sql_time(expr: str) -> str:
    return _SQL_FORMAT["time"].format(e=expr)


def sql_content_from_parts(
    *, prefix: str, seq: str, posted_at_text: str, middle: str, balance_after: str, tail: str
) -> str:
    """``content`` in SQL from ``parts`` (text expressions) and the three decided fields
    (``posted_at_text`` already formatted, e.g. by ``sql_time``)."""
    return (
        f"({prefix}) || ({seq})::text || '|' || ({posted_at_text}) || '|' || ({middle}) || '|' "
        f"|| {_SQL_FORMAT['money'].format(e=balance_after)} || '|' || ({tail})"
    )


def sql_link(previous_bytes: str, content_sql: str) -> str:
    """SQL for the digest (bytea) after ``previous_bytes`` (a bytea expression)."""
    return f"sha256(({previous_bytes}) || convert_to({content_sql}, 'UTF8'))"
