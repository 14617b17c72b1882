"""Finding: the API had no rate limit — one key could send any number of requests, and
anyone could try any number of keys. Now: API_RATE_PER_KEY requests per key and
API_RATE_FAILED_AUTH_PER_IP failed authentications per address, each answered 429 in
the API's error shape with Retry-After; an X-Forwarded-For the client makes up does not
buy it a new budget."""

import pytest

from billing_site.middleware import client_ip
from tests.hardening.conftest import KeyClient, json_of

pytestmark = pytest.mark.django_db


def assert_throttled(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    body = json_of(response)
    assert body["error"] == "throttled" and body["field"] is None
    assert body["detail"]


def test_defaults_from_the_settings():
    from billing_site import settings as production

    assert production.API_RATE_PER_KEY == "600/min"
    assert production.API_RATE_FAILED_AUTH_PER_IP == "30/min"


def test_requests_per_key_are_limited(settings, throttle_cache, make_key):
    settings.API_RATE_PER_KEY = "3/min"
    busy, other = make_key("busy"), make_key("other")

    assert [busy.get("/api/v1/accounts/").status_code for _ in range(3)] == [200] * 3
    assert_throttled(busy.get("/api/v1/accounts/"))
    assert_throttled(busy.get("/api/v1/invoices/"))  # the budget is the key's, not a URL's
    # Another key from the same address has its own budget.
    assert other.get("/api/v1/accounts/").status_code == 200


def test_failed_authentications_per_address_are_limited(settings, throttle_cache, make_key):
    settings.API_RATE_FAILED_AUTH_PER_IP = "3/min"
    guesser = KeyClient("bf_deadbeef_not-a-key", REMOTE_ADDR="203.0.113.9")

    assert [guesser.get("/api/v1/accounts/").status_code for _ in range(3)] == [401] * 3
    assert_throttled(guesser.get("/api/v1/accounts/"))
    # Making up a forwarding header does not help: the address is REMOTE_ADDR.
    assert_throttled(guesser.get("/api/v1/accounts/", HTTP_X_FORWARDED_FOR="10.9.9.9"))
    # Another address is not affected, and a right key from there works.
    elsewhere = KeyClient(make_key().raw_key, REMOTE_ADDR="198.51.100.3")
    assert elsewhere.get("/api/v1/accounts/").status_code == 200


def test_successful_authentications_are_not_counted(settings, throttle_cache, make_key):
    settings.API_RATE_FAILED_AUTH_PER_IP = "2/min"
    settings.API_RATE_PER_KEY = "100/min"
    api = make_key()
    assert {api.get("/api/v1/accounts/").status_code for _ in range(5)} == {200}


def test_client_address_behind_a_trusted_proxy(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.5")
    assert client_ip(request) == "10.0.0.1"  # untrusted: the header is ignored
    settings.TRUST_X_FORWARDED_FOR = True
    assert client_ip(request) == "192.0.2.5"  # the address our proxy appended, not 6.6.6.6
