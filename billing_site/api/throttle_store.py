"""The throttles' shared counters on PostgreSQL: one row per key or address in the
UNLOGGED table ``api_throttle_hits`` (migration ``api.0004``), holding the times
(seconds since the epoch, the database's clock) of the requests counted in the window.

Each request is one statement (``INSERT ... ON CONFLICT DO UPDATE``) that drops the
times older than the window and appends this one if the budget allows: atomic (the row
is locked for the statement), shared by every process and host, and cheap (an unlogged
table writes no WAL, so the statement's commit waits for no disk flush). The array is
never longer than the rate's count. Rows idle for a day are deleted now and then.
"""

import random

from django.conf import settings
from django.db import connection

TABLE = "api_throttle_hits"
NOW = "extract(epoch FROM statement_timestamp())::float8"
LIVE = f"ARRAY(SELECT h FROM unnest(t.hits) AS h WHERE h > {NOW} - %(duration)s ORDER BY h)"
IDLE_SECONDS = 86400  # the longest rate period ("/day")

HIT = f"""
INSERT INTO {TABLE} AS t (ident, hits, allowed)
VALUES (%(ident)s, CASE WHEN %(limit)s > 0 THEN ARRAY[{NOW}] ELSE '{{}}' END, %(limit)s > 0)
ON CONFLICT (ident) DO UPDATE SET
    allowed = cardinality({LIVE}) < %(limit)s,
    hits = CASE WHEN cardinality({LIVE}) < %(limit)s THEN {LIVE} || {NOW} ELSE {LIVE} END
RETURNING allowed, CASE WHEN allowed THEN NULL ELSE hits END, {NOW}
"""
RECORD = f"""
INSERT INTO {TABLE} AS t (ident, hits, allowed) VALUES (%(ident)s, ARRAY[{NOW}], true)
ON CONFLICT (ident) DO UPDATE SET hits = {LIVE} || {NOW}
"""
RECENT = f"SELECT {LIVE}, {NOW} FROM {TABLE} t WHERE ident = %(ident)s"
PURGE = f"DELETE FROM {TABLE} WHERE coalesce(hits[cardinality(hits)], 0) < {NOW} - %(idle)s"


def shared() -> bool:
    """Whether the counters are in the database (PostgreSQL) rather than the cache."""
    return connection.vendor == "postgresql"


def _purge_now_and_then(cursor) -> None:
    # About one request in a thousand also deletes idle counters; the test settings set
    # the rate to 0 so that a request's query count does not depend on chance.
    if random.random() < getattr(settings, "API_THROTTLE_PURGE_RATE", 0.001):
        cursor.execute(PURGE, {"idle": IDLE_SECONDS})


def hit(ident: str, limit: int, duration: float) -> tuple[bool, list[float], float]:
    """Count a request if fewer than ``limit`` were counted in the last ``duration`` s:
    ``(allowed, history newest first (when refused), now)``."""
    with connection.cursor() as cursor:
        cursor.execute(HIT, {"ident": ident, "limit": limit, "duration": duration})
        allowed, hits, now = cursor.fetchone()
        _purge_now_and_then(cursor)
    return allowed, list(reversed(hits or [])), now


def record(ident: str, duration: float) -> None:
    """Count one more event (a failed authentication), whatever the count."""
    with connection.cursor() as cursor:
        cursor.execute(RECORD, {"ident": ident, "duration": duration})
        _purge_now_and_then(cursor)


def recent(ident: str, duration: float) -> tuple[list[float], float | None]:
    """The events counted in the last ``duration`` s, newest first, and now."""
    with connection.cursor() as cursor:
        cursor.execute(RECENT, {"ident": ident, "duration": duration})
        row = cursor.fetchone()
    if row is None:
        return [], None
    return list(reversed(row[0])), row[1]


def clear() -> None:
    if shared():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")
