"""Oversized and malformed API bodies: 413 and 400 in the API's error shape, nothing
changed — never a 500 (issue 13: a 3 MB body, JSON nested 5,000 deep)."""

import json

import pytest

from ledger.models import Account


def post(api, body: bytes, idem=None):
    return api.call("POST", "/api/v1/accounts/", raw=body, idem=idem)


@pytest.mark.django_db
@pytest.mark.parametrize("idempotent", [False, True])
def test_a_3_mb_body_is_413(api, idempotent):
    body = json.dumps({"name": "x" * (3 * 1024 * 1024), "currency": "GBP"}).encode()
    answer = post(api, body, idem="big-1" if idempotent else None)
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert not Account.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("idempotent", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "a", "currency": "GBP", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"name": "a", "currency": "GBP", "x": ' + b"[" * 33 + b"]" * 33 + b"}",
        b'{"name": "a", "currency": "GBP", "x": NaN}',
        b'{"name": "a", "currency": "GBP", "x": Infinity}',
        b'{"name": "a", "currency": "GBP"',
        b"\xff\xfe{}",
    ],
)
def test_malformed_or_too_deep_json_is_400(api, body, idempotent):
    answer = post(api, body, idem="deep-1" if idempotent else None)
    assert answer.status_code == 400
    assert answer.json()["error"] == "malformed"
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_json_32_deep_with_brackets_inside_strings_is_fine(api):
    body = json.dumps({"name": "[[[{{{" * 10, "email": "a@b.test", "currency": "GBP"}).encode()
    answer = post(api, body)
    assert answer.status_code == 201, answer.content
