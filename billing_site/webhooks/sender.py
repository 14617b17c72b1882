"""One HTTP POST of a signed event body (stdlib ``http.client``: no redirects followed,
the timeout on the connection and on every read). Runs outside any transaction."""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from payments.gateways.base import SIGNATURE_HEADER, sign_body

from .models import EXCERPT_LIMIT

USER_AGENT = "Billfold-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def timeout_seconds() -> float:
    return float(getattr(settings, "BILLFOLD_WEBHOOK_TIMEOUT", 5))


def _public_only(host: str, port: int | None) -> None:
    """Refuse to send to this network's own machines (server-side request forgery): every
    address the host name resolves to must be a public one, unless it is this machine
    and ``BILLFOLD_WEBHOOK_HTTP_LOCAL`` is on (DEBUG, the tests)."""
    from .endpoints import LOCAL_HOSTS, local_allowed

    if host in LOCAL_HOSTS and local_allowed():
        return
    for *_, address in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP):
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise ValueError(f"{host} resolves to {ip}, not a public address: not sent")


def _connection(url: str, timeout: float):
    parts = urlsplit(url)
    _public_only(parts.hostname or "", parts.port)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _excerpt(response, *, deadline: float) -> str:
    """At most 1 kB of the answer, read until ``deadline`` (an answer dripping a byte
    at a time cannot hold the worker: each read has the timeout, the whole has this)."""
    data = b""
    while len(data) < EXCERPT_LIMIT and time.monotonic() < deadline:
        chunk = response.read1(EXCERPT_LIMIT - len(data))
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")[:EXCERPT_LIMIT]


def post(url: str, body: bytes, *, secret: str, headers: dict, timeout=None) -> Outcome:
    """POST ``body`` signed with ``secret`` (``Billfold-Signature: t=...,v1=...``, the
    gateways' scheme) and say what came back; never raises for a network failure."""
    timeout = timeout_seconds() if timeout is None else timeout
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign_body(secret, body),
        **headers,
    }
    started = time.monotonic()
    status, error, excerpt = None, "", ""
    connection = None
    try:
        connection = _connection(url, timeout)
        connection.request("POST", _target(url), body=body, headers=headers)
        response = connection.getresponse()
        status = response.status
        excerpt = _excerpt(response, deadline=started + 2 * timeout)
    except TimeoutError:
        error = f"timeout after {timeout:g} s"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:255]
    finally:
        if connection is not None:
            connection.close()
    duration = int((time.monotonic() - started) * 1000)
    return Outcome(status_code=status, error=error, excerpt=excerpt, duration_ms=duration)
