"""Fixtures for the REST API suite: API keys and a small JSON client over the WSGI app."""

import json

import pytest
from django.core.management import call_command
from django.test import Client

from billing_site.api.models import ALL_SCOPES, ApiKey


class Api:
    """``api.post("/api/v1/...", {...}, key=..., idem="k")`` -> response with ``.data``."""

    def __init__(self, raw_key: str | None):
        self.raw_key = raw_key
        self.client = Client()

    def call(self, method, path, body=None, *, key="default", idem=None, raw=None, **headers):
        raw_key = self.raw_key if key == "default" else key
        if raw_key:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
        if idem is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = idem
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {"content_type": "application/json"} if payload is not None else {}
        if payload is not None:
            kwargs["data"] = payload
        response = getattr(self.client, method.lower())(path, **kwargs, **headers)
        try:
            response.data = json.loads(response.content) if response.content else None
        except ValueError:
            response.data = None
        return response

    def get(self, path, params=None, **kw):
        if params:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(params)}"
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body or {}, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body or {}, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def money(amount: str, currency: str = "GBP") -> dict:
    return {"amount": amount, "currency": currency}


@pytest.fixture
def make_key(db):
    def make(name=None, scopes=ALL_SCOPES, accounts=(), groups=()):
        make.n += 1
        return ApiKey.create_with_key(
            name=name or f"client {make.n}", scopes=scopes, accounts=accounts, groups=groups
        )

    make.n = 0
    return make


@pytest.fixture
def api(make_key):
    """A client holding a key with every scope, on every account."""
    key, raw = make_key("integration")
    client = Api(raw)
    client.key = key
    return client


@pytest.fixture
def verified(db):
    yield
    call_command("verify_ledger", verbosity=0)
