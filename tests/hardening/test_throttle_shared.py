"""Finding (issue 16): the throttles counted in each worker process's memory, so with
several gunicorn workers (and hosts) a key had that many times its budget. On
PostgreSQL the counts are one shared row per key or address
(``billing_site.api.throttle_store``): what one process counted, every process sees, and
concurrent requests never overspend the budget."""

import threading

import pytest
from django.core.cache import cache
from django.db import connection

from billing_site.api import throttle_store
from billing_site.api.models import ApiKey
from tests.hardening.conftest import KeyClient

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_the_budget_is_shared_not_per_process(settings, throttle_cache, make_key):
    settings.API_RATE_PER_KEY = "3/min"
    settings.API_RATE_FAILED_AUTH_PER_IP = "2/min"
    api = make_key()
    guesser = KeyClient("bf_deadbeef_not-a-key", REMOTE_ADDR="203.0.113.77")
    for _ in range(3):
        assert api.get("/api/v1/accounts/").status_code == 200
        cache.clear()  # a process-local counter would start again here
    assert api.get("/api/v1/accounts/").status_code == 429
    assert [guesser.get("/api/v1/accounts/").status_code for _ in range(2)] == [401, 401]
    cache.clear()
    refused = guesser.get("/api/v1/accounts/")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60


@pytest.mark.django_db
def test_the_counts_live_in_the_table_and_expire():
    assert throttle_store.shared()
    assert [throttle_store.hit("t:a", 2, 60)[0] for _ in range(3)] == [True, True, False]
    allowed, history, now = throttle_store.hit("t:a", 2, 60)
    assert not allowed and len(history) == 2 and history[0] >= history[1]
    assert 0 <= now - history[1] < 60  # Retry-After = 60 - (now - oldest)
    assert throttle_store.hit("t:a", 3, 60)[0]  # a higher rate frees a slot at once
    with connection.cursor() as cursor:  # a minute later: the old counts are gone
        cursor.execute("UPDATE api_throttle_hits SET hits = ARRAY[0.0, 1.0] WHERE ident='t:a'")
    assert throttle_store.hit("t:a", 2, 60)[0]
    assert throttle_store.recent("t:a", 60)[0] == throttle_store.recent("t:a", 60)[0][:1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_overspend_the_budget(settings):
    settings.API_RATE_PER_KEY = "3/min"
    throttle_store.clear()
    raw = ApiKey.create_with_key(name="burst")[1]
    threads, barrier, statuses = 8, threading.Barrier(8), []

    def worker():
        try:
            client = KeyClient(raw)
            barrier.wait(timeout=30)
            statuses.append(client.get("/api/v1/accounts/").status_code)
        finally:
            connection.close()

    running = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join(60)
    assert sorted(statuses) == [200] * 3 + [429] * 5


@pytest.mark.django_db(transaction=True)
def test_idle_counters_are_purged_now_and_then(settings):
    settings.API_THROTTLE_PURGE_RATE = 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {throttle_store.TABLE} (ident, hits, allowed) "
            "VALUES ('idle', ARRAY[1.0::float8], true)"
        )
    throttle_store.hit("busy", 10, 60.0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ident FROM {throttle_store.TABLE}")
        idents = {row[0] for row in cursor.fetchall()}  # other tests' live counters too
    assert "busy" in idents and "idle" not in idents
