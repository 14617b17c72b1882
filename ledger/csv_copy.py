"""The statement CSV's entry rows on PostgreSQL, at database speed: ``COPY (SELECT ...)
TO STDOUT WITH (FORMAT csv)`` (psycopg 3 ``cursor.copy``).

The bytes are the ones ``csv_export``'s Python path writes (``csv.writer``, the
``excel`` dialect), so the two paths are interchangeable and tested byte for byte:

- PostgreSQL's CSV writer quotes a field exactly when Python's does (it holds the
  delimiter, the quote or a CR/LF; quotes are doubled). It writes a NULL unquoted and an
  empty string as ``""``: empty text fields are sent as NULL, which Python writes as
  nothing, too.
- Text that starts like a spreadsheet formula gets the same leading apostrophe
  (``FORMULA_START``); amounts are rounded to the currency's places
  (``-12.50``, ``1200``; stored amounts never carry more), dates are local ISO times to
  the second with their UTC offset, like ``datetime.isoformat(timespec="seconds")``.
- PostgreSQL ends each row with LF where ``csv.writer`` writes CRLF: each COPY message
  is one row (psycopg's ``Copy.read``), so the last byte of each becomes CRLF — by one
  ``bytes.replace`` over the whole batch when no field holds a newline (the count of LFs
  equals the count of rows), row by row otherwise.

Rows are read in seq batches (``BATCH``): each COPY is finished before its bytes are
handed on, so the connection is idle between chunks (memory: one batch), and the
response can be streamed by any server while other code uses the connection.
"""

import datetime as dt
from collections.abc import Iterator

from django.db import connection
from django.utils import timezone

from .models import LedgerEntry
from .money import minor_places

BATCH = 20_000
# A cell starting with one of these is read as a formula by spreadsheet programs; text
# cells that start with one get a leading apostrophe (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(column: str) -> str:
    """``csv_export._text`` in SQL, and NULL for an empty string (written unquoted)."""
    codes = ", ".join(str(ord(c)) for c in FORMULA_START)
    value = f"e.{column}"
    return (
        f"CASE WHEN {value} = '' THEN NULL WHEN ascii({value}) IN ({codes}) "
        f"THEN '''' || {value} ELSE {value} END"
    )


def _display_reference() -> str:
    """``ledger.selectors.display_reference`` in SQL: the kind, then the reference without
    its stored kind prefix (the prefixes are all five characters: ``INVC-`` ...)."""
    from .selectors import KIND_PREFIXES

    assert {len(p) for p in KIND_PREFIXES} == {5}
    prefixes = ", ".join(f"'{p}'" for p in KIND_PREFIXES)
    return (
        f"e.kind || '-' || CASE WHEN left(e.reference, 5) IN ({prefixes}) "
        "THEN substr(e.reference, 6) ELSE e.reference END"
    )


def _amount(column: str) -> str:
    return f"round(e.{column}, %(places)s)::text"


_LOCAL_TIME = "to_char(e.posted_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD\"T\"HH24:MI:SS')"

# The UTC offset after the local time, as Python's isoformat writes it: +HH:MM (or
# +HH:MM:SS for the odd historical zone). A fixed-offset zone (UTC, the default) passes
# it as a constant; any other zone computes it per entry.
_OFFSET = """
    CASE WHEN o.d < interval '0' THEN '-' ELSE '+' END
    || to_char(o.abs_d, 'HH24:MI')
    || CASE WHEN extract(second FROM o.abs_d) <> 0 THEN to_char(o.abs_d, ':SS') ELSE '' END
"""
_OFFSET_FROM = """
    CROSS JOIN LATERAL (
        SELECT d, CASE WHEN d < interval '0' THEN -d ELSE d END AS abs_d
        FROM (SELECT (e.posted_at AT TIME ZONE %(tz)s) - (e.posted_at AT TIME ZONE 'UTC')
              AS d) AS offsets
    ) AS o
"""


def _copy_sql(fixed_offset: bool) -> str:
    return f"""
COPY (
    SELECT {_LOCAL_TIME} || {"%(offset)s" if fixed_offset else _OFFSET},
           {_display_reference()}, e.kind, {_text("description")}, {_text("method")},
           {_amount("debit")}, {_amount("credit")}, {_amount("balance_after")},
           %(currency)s
    FROM {LedgerEntry._meta.db_table} AS e {"" if fixed_offset else _OFFSET_FROM}
    WHERE e.account_id = %(account)s AND e.seq BETWEEN %(lo)s AND %(hi)s
    ORDER BY e.seq
) TO STDOUT WITH (FORMAT csv)
"""


COPY_SQL = {True: _copy_sql(True), False: _copy_sql(False)}


def _fixed_offset(zone) -> str | None:
    """``+HH:MM`` when ``zone`` has one offset at all times (UTC), else None."""
    if isinstance(zone, dt.timezone):
        offset = zone.utcoffset(None)
    elif getattr(zone, "key", None) in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Zulu"):
        offset = dt.timedelta(0)
    else:
        return None
    return dt.datetime(2000, 1, 1, tzinfo=dt.timezone(offset)).isoformat()[-6:]


def _crlf(data: bytearray, ends: list[int]) -> bytes:
    """LF row ends as CRLF; ``ends`` are the offsets just past each row's LF."""
    if data.count(b"\n") == len(ends):  # no newline inside a field
        return bytes(data).replace(b"\n", b"\r\n")
    out, start = bytearray(), 0
    for end in ends:
        out += data[start : end - 1]
        out += b"\r\n"
        start = end
    return bytes(out)


def _batch(sql: str, params: dict) -> bytes:
    data, ends = bytearray(), []
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for row in copy:
            data += row
            ends.append(len(data))
    return _crlf(data, ends)


def entry_lines(account, lo: int, hi: int) -> Iterator[bytes]:
    """The CSV rows of the account's entries ``lo..hi`` (seq), oldest first."""
    offset = _fixed_offset(timezone.get_current_timezone())
    params = {
        "account": account.pk,
        "currency": account.currency,
        "places": minor_places(account.currency),
        "tz": "UTC" if offset is not None else timezone.get_current_timezone_name(),
        "offset": offset,
    }
    sql = COPY_SQL[offset is not None]
    for start in range(lo, hi + 1, BATCH):
        chunk = _batch(sql, {**params, "lo": start, "hi": min(hi, start + BATCH - 1)})
        if chunk:
            yield chunk


def available() -> bool:
    return connection.vendor == "postgresql"
