"""Fixtures for the production-hardening tests (issue 13): users, API keys and a small
JSON client, all going through the real URLs and middleware."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from billing_site.api.models import ALL_SCOPES, ApiKey
from ledger import services as ledger
from payments.roles import BILLING_ADMIN, ensure_roles

PASSWORD = "right-pass-4711"


def json_of(response):
    return json.loads(response.content) if response.content else None


class KeyClient:
    """Requests signed with one API key (``Authorization: Bearer``)."""

    def __init__(self, raw_key: str | None, **defaults):
        self.raw_key = raw_key
        self.client = Client(**defaults)

    def _headers(self, headers):
        if self.raw_key:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.raw_key}")
        return headers

    def get(self, path, **headers):
        return self.client.get(path, **self._headers(headers))

    def patch(self, path, body, **headers):
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", **self._headers(headers)
        )


@pytest.fixture
def make_key(db):
    def make(name="integration", **kwargs):
        kwargs.setdefault("scopes", ALL_SCOPES)
        make.n += 1
        key, raw = ApiKey.create_with_key(name=f"{name} {make.n}", **kwargs)
        return KeyClient(raw)

    make.n = 0
    return make


@pytest.fixture
def throttle_cache():
    """The throttles count in the default cache (SQLite) or a shared table that is no
    model (PostgreSQL, ``billing_site.api.throttle_store``); both outlive a test: start
    empty."""
    from billing_site.api.throttling import reset

    reset()
    yield cache
    cache.clear()


@pytest.fixture
def make_user(db):
    def make(username, **kwargs):
        return get_user_model().objects.create_user(
            username=username, email=f"{username}@example.test", password=PASSWORD, **kwargs
        )

    return make


@pytest.fixture
def staff(make_user):
    """A billing admin (staff, in the Billing admin group; not a superuser)."""
    ensure_roles()  # a transactional test's flush removed the groups the migrations made
    user = make_user("finance-admin", is_staff=True)
    user.groups.add(Group.objects.get(name=BILLING_ADMIN))
    return user


@pytest.fixture
def member(make_user):
    user = make_user("member-ann", first_name="Ann")
    ledger.create_account(
        name="Ann's Studio",
        email="ann@example.test",
        currency="GBP",
        actor=ledger.system_actor("tests"),
        members=[user],
    )
    return user
