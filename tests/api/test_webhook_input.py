"""Malformed webhook input is refused with a 4xx and changes nothing — never a 500
(issue 13 findings: a 400-digit timestamp, a non-ASCII signature, a NUL byte in a
signed event id, JSON nested thousands deep)."""

import json
import time

import pytest
from django.test import Client

from payments import gateways
from payments.models import GatewayEvent

URL = "/api/v1/gateways/sandbox/webhook/"


@pytest.fixture
def gw():
    return gateways.by_name("sandbox")


def post(raw: bytes, signature: str):
    return Client().post(
        URL, data=raw, content_type="application/json", HTTP_BILLFOLD_SIGNATURE=signature
    )


EVENT = json.dumps({"id": "evt_1", "type": "payment.succeeded", "payment_reference": "x"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        "t=" + "9" * 400 + ",v1=" + "0" * 64,  # a 400-digit timestamp
        "t={now},v1=" + "é" * 64,  # non-ASCII signature
        "t={now},v1=" + "٣" * 64,  # Arabic-Indic digits are not hex
        "t=١٢٣,v1=" + "0" * 64,  # nor a timestamp
        "t={now},v1=" + "0" * 64 + ",v1=" + "0" * 64,  # two signatures
        "t={now},v1=" + "0" * 5000,  # a huge header
        "t=-5,v1=" + "0" * 64,
        "t={now}",
        "v1=" + "0" * 64,
    ],
)
def test_malformed_signature_headers_are_401(gw, signature):
    answer = post(EVENT.encode(), signature.format(now=int(time.time())))
    assert answer.status_code == 401
    assert answer.json()["error"] == "signature_malformed"
    assert not GatewayEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["id", "type", "payment_reference"])
def test_a_nul_byte_in_a_signed_event_is_400(gw, field):
    event = {"id": "evt_nul", "type": "payment.succeeded", "payment_reference": "ref"}
    event[field] = event[field][:2] + "\x00" + event[field][2:]
    raw = json.dumps(event).encode()
    answer = post(raw, gw.sign(raw))
    assert answer.status_code == 400 and answer.json()["error"] == "malformed"
    assert field in answer.json()["detail"]
    assert not GatewayEvent.objects.exists()


@pytest.mark.django_db
def test_json_nested_thousands_deep_is_400(gw):
    raw = b'{"id": "e", "type": "t", "payment_reference": "r", "x": ' + b"[" * 5000
    raw += b"]" * 5000 + b"}"
    answer = post(raw, gw.sign(raw))
    assert answer.status_code == 400 and answer.json()["error"] == "malformed"


@pytest.mark.django_db
def test_a_valid_signature_in_upper_case_hex_still_verifies(gw):
    raw = EVENT.encode()
    ts, mac = gw.sign(raw).split(",")
    answer = post(raw, f"{ts},{mac.upper().replace('V1=', 'v1=')}")
    assert answer.status_code == 202  # unknown payment: stored, not a signature problem
