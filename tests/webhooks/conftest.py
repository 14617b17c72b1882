"""A real HTTP receiver on 127.0.0.1 in the test process (``http.server`` in a thread):
it answers 200, 500 or hangs past the sender's timeout, and counts the requests of each
event id. A controllable clock (``now``) is passed to the fan-out and the delivery."""

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from billing_site.webhooks import endpoints
from events import services as events
from events.models import EventType
from tests.api.conftest import api, make_key  # noqa: F401 - fixtures reused

TIMEOUT = 0.3  # seconds: BILLFOLD_WEBHOOK_TIMEOUT in these tests


class Receiver:
    def __init__(self):
        self.mode = "ok"  # "ok" (200), "error" (500) or "hang" (answers after the timeout)
        self.requests: list[dict] = []
        self.per_event: Counter = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = receiver.mode
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    receiver.per_event[self.headers.get("Billfold-Event-Id")] += 1
                if mode == "hang":
                    time.sleep(TIMEOUT * 3)
                status = 500 if mode == "error" else 200
                answer = b'{"ok": true}' if status == 200 else b"receiver broken " * 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up (timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/billfold"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.BILLFOLD_WEBHOOK_HTTP_LOCAL = True
    settings.BILLFOLD_WEBHOOK_TIMEOUT = TIMEOUT
    settings.BILLFOLD_STAFF_ALERT_EMAIL = "ops@billfold.test"
    return settings


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **kwargs):
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def emit():
    """Write one event for ``account`` as a service would (in a transaction)."""

    def make(account, type=EventType.INVOICE_PAID, **payload):
        with transaction.atomic():
            return events.emit(type, account=account, objects={"invoice": payload or {"id": 1}})

    return make


@pytest.fixture
def endpoint(receiver):
    def make(**kwargs):
        kwargs.setdefault("all_events", True)
        return endpoints.create_endpoint(url=kwargs.pop("url", receiver.url), **kwargs)

    return make
