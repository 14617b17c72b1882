"""The gateway interface: what Billfold asks of a payment service provider.

A gateway starts card payments and direct debits, sends refunds, and tells Billfold
the outcome later through signed webhook events. ``verify`` and ``parse`` turn a raw
webhook into an ``Event`` or refuse it (``WebhookRejected`` with the HTTP status).
"""

import hashlib
import hmac
import json
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

SIGNATURE_HEADER = "Billfold-Signature"  # "t=<unix seconds>,v1=<hex hmac-sha256>"
SIGNATURE_PATTERN = re.compile(r"t=(?P<t>[0-9]{1,12}),v1=(?P<v1>[0-9a-fA-F]{64})", re.ASCII)
MAX_SIGNATURE_HEADER = 200
TOLERANCE_SECONDS = 300


def sign_body(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Billfold-Signature`` value for ``body``: ``t=<unix seconds>,v1=<hex>``, the
    HMAC-SHA256 under ``secret`` of ``"<t>." + body``. Incoming gateway webhooks and
    outgoing webhooks (``billing_site.webhooks``) are signed by this one function."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256)
    return f"t={ts},v1={mac.hexdigest()}"


class WebhookRejected(Exception):
    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    payment_reference: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Started:
    """A payment or refund the gateway accepted; its outcome comes by webhook."""

    reference: str


class Gateway(ABC):
    name: str = ""

    def __init__(self, *, name: str, secret: str):
        self.name, self.secret = name, secret

    # --- outgoing calls ----------------------------------------------------------------
    @abstractmethod
    def start_card_payment(self, payment, *, card_number: str) -> Started: ...

    @abstractmethod
    def start_direct_debit(self, payment, *, iban: str) -> Started: ...

    @abstractmethod
    def refund(self, refund_payment, *, original) -> Started: ...

    # Mandates: the gateway keeps the IBAN; Billfold keeps the gateway's mandate id.
    def register_mandate(self, *, iban: str, reference: str) -> str:
        """Hand the member's mandate to the gateway; returns the gateway's mandate id."""
        raise NotImplementedError(f"gateway {self.name!r} does not keep mandates")

    def start_mandate_debit(self, payment, *, mandate: str) -> Started:
        """Collect ``payment`` under a mandate registered with :meth:`register_mandate`."""
        raise NotImplementedError(f"gateway {self.name!r} does not keep mandates")

    # --- incoming webhooks -------------------------------------------------------------
    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        return sign_body(self.secret, body, timestamp)

    def verify(self, body: bytes, signature: str | None, now: float | None = None) -> None:
        """HMAC-SHA256 over ``"<timestamp>." + body`` with a tolerance on the timestamp.

        The header is checked for shape before any arithmetic: at most
        ``MAX_SIGNATURE_HEADER`` characters, a timestamp of at most 12 ASCII digits and a
        64-character hex ``v1``; anything else is malformed (401), never a 500."""
        if not signature:
            raise WebhookRejected(401, "signature_missing", f"{SIGNATURE_HEADER} header missing.")
        match = SIGNATURE_PATTERN.fullmatch(signature[: MAX_SIGNATURE_HEADER + 1])
        if len(signature) > MAX_SIGNATURE_HEADER or match is None:
            raise WebhookRejected(
                401,
                "signature_malformed",
                f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<64 hex digits>.",
            )
        ts, given = int(match["t"]), match["v1"]
        if abs((now or time.time()) - ts) > TOLERANCE_SECONDS:
            raise WebhookRejected(
                401,
                "signature_expired",
                f"Signature timestamp is more than {TOLERANCE_SECONDS}s off.",
            )
        expected = hmac.new(self.secret.encode(), f"{ts}.".encode() + body, hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), given.lower()):
            raise WebhookRejected(401, "signature_invalid", "Signature does not match the body.")

    def parse(self, body: bytes) -> Event:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise WebhookRejected(400, "malformed", "Body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise WebhookRejected(400, "malformed", "Body must be a JSON object.")
        missing = [
            k for k in ("id", "type", "payment_reference") if not isinstance(data.get(k), str)
        ]
        if missing:
            raise WebhookRejected(400, "malformed", f"Missing or non-string: {', '.join(missing)}.")
        if not data["id"] or len(data["id"]) > 100 or len(data["payment_reference"]) > 100:
            raise WebhookRejected(400, "malformed", "id/payment_reference empty or too long.")
        bad = [k for k in ("id", "type", "payment_reference") if not _printable(data[k])]
        if bad:
            raise WebhookRejected(
                400, "malformed", f"Control characters (e.g. NUL) in: {', '.join(bad)}."
            )
        return Event(data["id"], data["type"], data["payment_reference"], data)


def _printable(text: str) -> bool:
    """No NUL or other control character (PostgreSQL text cannot even store NUL)."""
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)
