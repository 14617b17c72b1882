"""Fixtures for ``tests/live``: a live gunicorn (``server.LiveServer``) against the
PostgreSQL test database this pytest run created (pytest-django, every migration
applied), and a full-scope API key.

The tests are ``transaction=True``: what they seed through the services is committed,
so gunicorn's own connections see it; every server is stopped before pytest-django
flushes the database at the end of the test.
"""

import pytest
from django.db import connection

from billing_site.api.models import ALL_SCOPES, ApiKey
from tests.live.server import LiveServer, assert_migrated


@pytest.fixture
def gunicorn_server(transactional_db, tmp_path):
    """``start(**env) -> LiveServer``; every server started is stopped at the end,
    before the database is flushed."""
    assert connection.vendor == "postgresql"
    assert_migrated()
    servers = []

    def start(**extra):
        servers.append(LiveServer(tmp_path, **extra))
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def full_key(transactional_db):
    """A key with every scope, on every account: ``(ApiKey, "Bearer ...")``."""
    key, raw = ApiKey.create_with_key(name="live tests", scopes=ALL_SCOPES)
    return key, f"Bearer {raw}"
