"""Hot-path statements as server-side prepared statements (PostgreSQL).

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


class _PreparingCursor:
    """A psycopg cursor whose ``execute`` prepares on the server."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, params=None):
        return self._cursor.execute(sql, params, prepare=True)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)


def fetch(connection, sql: str, params: dict) -> list[tuple]:
    """Execute ``sql`` (``%(name)s`` placeholders) prepared; return every row."""
    import psycopg  # PostgreSQL only

    connection.ensure_connection()
    raw = _PreparingCursor(psycopg.Cursor(connection.connection))
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
