"""Hot-path statements as server-side prepared statements (PostgreSQL).

(It lives in ``events``, the lowest layer, so that every app may use it: the outbox's
``emit`` as much as the ledger's posting and the wallets' drawdown. ``ledger.prepared``
re-exports it.)

Django's PostgreSQL backend sends every query with client-side binding and turns
psycopg's automatic preparation off (``prepare_threshold=None``), so each query is
parsed and planned again. For the few statements on the hot paths — one posting
(``ledger.services.posting_sql``), one usage drawdown (``wallets.services.
drawdown_sql``) — that costs more than the statement itself: planning them takes
longer than running them. ``fetch`` sends such a statement through a server-side-binding
psycopg cursor with ``prepare=True`` on Django's own connection (same transaction), and
wraps that cursor as Django wraps its own: errors become ``django.db`` errors, execute
wrappers and query logging see it, and a broken transaction is refused before anything
is sent. The prepared statement lives as long as the connection.

(Behind a pooler in transaction mode, e.g. PgBouncer < 1.21, prepared statements do not
survive a change of server connection: use session pooling, or PgBouncer ≥ 1.21 with
``max_prepared_statements``.)
"""

from types import SimpleNamespace

# psycopg ignores ``prepare=True`` on a connection whose ``prepare_threshold`` is None,
# which is how Django opens it. A threshold no query reaches restores explicit
# preparation and nothing else: Django's own cursors bind on the client and are never
# prepared whatever the threshold; only the statements sent here are.
_EXPLICIT_ONLY = 2**31 - 1


class _PreparingCursor:
    """A psycopg cursor whose ``execute`` prepares on the server. Its ``_query`` is the
    statement's text (with its placeholders), which is what Django's query log records
    for a client-side-binding cursor."""

    def __init__(self, cursor):
        self._cursor = cursor
        self._query = None

    def execute(self, sql, params=None):
        self._query = SimpleNamespace(query=sql.encode())
        return self._cursor.execute(sql, params, prepare=True)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


def fetch(connection, sql: str, params: dict) -> list[tuple]:
    """Execute ``sql`` (``%(name)s`` placeholders) prepared; return every row."""
    import psycopg  # PostgreSQL only

    connection.ensure_connection()
    pg = connection.connection
    if pg.prepare_threshold is None:
        pg.prepare_threshold = _EXPLICIT_ONLY
    raw = _PreparingCursor(psycopg.Cursor(pg))
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def one_value(connection, sql: str, params: dict):
    """The first column of the first row ``fetch`` returns, or None without a row."""
    rows = fetch(connection, sql, params)
    return rows[0][0] if rows else None
