"""Benchmark: outgoing webhooks (issue 14) — events fanned out per second, and
deliveries per second to a local receiver (``http.server`` on 127.0.0.1 answering 200 at
once: the figure is Billfold's side — claim, sign, POST, record), with one and with two
workers (threads, each with its own connection).

    DATABASE_URL=postgres://... .venv/bin/python bench/webhooks_bench.py  # markdown out
    BENCH_WEBHOOK_EVENTS=300 (default) sets the size.
"""

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS") or 300)


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def _receiver() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def _events(n: int) -> None:
    from django.db import transaction

    from events import services as events
    from ledger import services as ledger

    actor = ledger.system_actor("bench:webhooks")
    account = ledger.create_account(
        name=f"Webhook bench {time.time_ns()}", email="w@example.test", currency="GBP", actor=actor
    )
    for i in range(n):
        with transaction.atomic():
            events.emit("invoice.paid", account=account, objects={"invoice": {"id": i}})


def _deliver(workers: int) -> float:
    from django.db import connection

    from billing_site.webhooks.delivery import deliver_due

    def work():
        try:
            deliver_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def measure(n: int = EVENTS) -> dict:
    from django.test import override_settings

    from billing_site.webhooks import endpoints
    from billing_site.webhooks.fanout import fan_out_all
    from billing_site.webhooks.models import WebhookDelivery

    server, url = _receiver()
    figures = {}
    with override_settings(BILLFOLD_WEBHOOK_HTTP_LOCAL=True):
        fan_out_all()  # events written before this run: not measured
        endpoint, _secret = endpoints.create_endpoint(url=url, all_events=True)
        try:
            for workers in (1, 2):
                _events(n)
                start = time.perf_counter()
                made = fan_out_all()
                figures[f"fan-out ({workers})"] = made / (time.perf_counter() - start)
                seconds = _deliver(workers)
                figures[f"deliveries, {workers} worker(s)"] = made / seconds
            delivered = WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered")
            figures["delivered"] = delivered.count()
        finally:
            endpoints.delete_endpoint(endpoint)
            server.shutdown()
    return figures


def render(figures: dict, n: int = EVENTS) -> str:
    lines = [
        "## Outgoing webhooks: fan-out and deliveries to a local receiver",
        "",
        f"{n} events per run, one endpoint on 127.0.0.1 answering 200 at once (Billfold's "
        "side only: claim with SKIP LOCKED, sign, POST, record the attempt).",
        "",
        "| step | per second |",
        "|---|---:|",
        f"| fan-out (events → deliveries) | {figures['fan-out (1)']:,.0f} |",
        f"| deliveries, 1 worker | {figures['deliveries, 1 worker(s)']:,.0f} |",
        f"| deliveries, 2 workers | {figures['deliveries, 2 worker(s)']:,.0f} |",
        "",
        f"All {figures['delivered']} deliveries delivered.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    setup_django()
    figures = measure()
    sys.stdout.write(render(figures))
    return 0 if figures["delivered"] == 2 * EVENTS else 1


if __name__ == "__main__":
    raise SystemExit(main())
