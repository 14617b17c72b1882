"""API throttling: requests per API key, and failed authentications per address.

Both answer 429 ``throttled`` with ``Retry-After`` (``billing_site.api.errors``). Rates
are read from the settings on every request (``API_RATE_PER_KEY``,
``API_RATE_FAILED_AUTH_PER_IP``, ``"<n>/<s|min|hour|day>"``). The limit is DRF's sliding
window: at most ``n`` requests counted in any ``s`` seconds (``Retry-After``: until the
oldest of them leaves the window).

Where the counters live (:mod:`billing_site.api.throttle_store`): on PostgreSQL, one
row per key or address in an UNLOGGED table, updated by one statement per request — so
every worker process, thread and host shares one budget, the update is atomic (the
row is locked for that statement), and no commit waits for a disk flush (an unlogged
table writes no WAL; it is emptied after a crash, which only forgets recent counts).
Elsewhere (SQLite: one development process) in Django's default cache.

A failed authentication never reaches DRF's throttles (authentication runs first and
raises), so the authentication class itself asks :func:`failed_authentication_guard`
before it looks at a key, and reports each failure to it.
"""

from contextlib import contextmanager

from django.conf import settings
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from billing_site.api import throttle_store
from billing_site.middleware import client_ip


class SharedRateThrottle(SimpleRateThrottle):
    """DRF's sliding-window throttle with its history in :mod:`throttle_store`."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        if not throttle_store.shared():
            return super().allow_request(request, view)
        allowed, self.history, self.now = throttle_store.hit(
            self.key, self.num_requests, self.duration
        )
        return allowed


class ApiKeyRateThrottle(SharedRateThrottle):
    """``API_RATE_PER_KEY`` requests per API key (keyed by the key's id, so every holder
    of one key shares its budget). Member sessions and anonymous calls are not counted
    here: they have no key."""

    scope = "api_key"

    def get_rate(self):
        return settings.API_RATE_PER_KEY

    def get_cache_key(self, request, view):
        from billing_site.api.auth import api_key_of

        key = api_key_of(request)
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}


class FailedAuthenticationThrottle(SimpleRateThrottle):
    """``API_RATE_FAILED_AUTH_PER_IP`` failed API authentications per client address.

    Unlike DRF's throttles this one counts failures only: :meth:`refuse_if_exceeded`
    checks without counting, :meth:`record_failure` counts.
    """

    scope = "api_failed_auth"

    def get_rate(self):
        return settings.API_RATE_FAILED_AUTH_PER_IP

    def get_ident(self, request):
        # Not DRF's default, which believes any X-Forwarded-For the client sends.
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def _load(self, request):
        self.key = self.get_cache_key(request, None)
        if throttle_store.shared():
            self.history, self.now = throttle_store.recent(self.key, self.duration)
            return
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]

    def refuse_if_exceeded(self, request) -> None:
        self._load(request)
        if len(self.history) >= self.num_requests:
            # Newest first: the failure that must expire to free one slot.
            freeing = self.history[self.num_requests - 1]
            raise exceptions.Throttled(
                wait=max(1.0, self.duration - (self.now - freeing)),
                detail="Too many failed authentications from this address; try again later.",
            )

    def record_failure(self, request) -> None:
        if throttle_store.shared():
            throttle_store.record(self.get_cache_key(request, None), self.duration)
            return
        self._load(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


@contextmanager
def failed_authentication_guard(request):
    """Refuse (429) an address over its failure budget; count an ``AuthenticationFailed``
    raised inside the block against it."""
    throttle = FailedAuthenticationThrottle()
    throttle.refuse_if_exceeded(request)
    try:
        yield
    except exceptions.AuthenticationFailed:
        throttle.record_failure(request)
        raise


def reset() -> None:
    """Forget every count (tests): the cache's and the shared table's."""
    from django.core.cache import cache

    cache.clear()
    throttle_store.clear()
