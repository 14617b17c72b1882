"""``events.prepared`` under its old name: the hot-path statements as server-side
prepared statements (PostgreSQL). The helper lives in ``events``, the lowest layer, so
that the outbox can use it too (``events`` may import nothing of the ledger)."""

from events.prepared import fetch, one_value

__all__ = ["fetch", "one_value"]
