"""Benchmark: the REST API through gunicorn (2 sync workers) on PostgreSQL.

    DATABASE_URL=postgres://... SECRET_KEY=bench .venv/bin/python bench/api_bench.py

Needs an already-migrated PostgreSQL. It creates its own accounts, an API key with every
scope, wallets and one account with 1,000,000 ledger entries (loaded with one SQL
statement, a consistent ledger: ``bench.statement_bench.load_entries``), starts
gunicorn on 127.0.0.1 (a free port), and drives it from this machine with a small
thread-pool load generator (``http.client``), bounded in requests and seconds. Writes
carry an ``Idempotency-Key`` as an integration would. Prints a markdown section.

Options (environment): API_BENCH_THREADS (default 4), API_BENCH_REQUESTS (per
scenario, default 300), API_BENCH_SECONDS (cap per scenario, default 30),
API_BENCH_ENTRIES (default 1000000).
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, loadavg, percentile, setup_django  # noqa: E402

THREADS = int(os.environ.get("API_BENCH_THREADS") or 4)
REQUESTS = int(os.environ.get("API_BENCH_REQUESTS") or 300)
SECONDS = float(os.environ.get("API_BENCH_SECONDS") or 30)
ENTRIES = int(os.environ.get("API_BENCH_ENTRIES") or 1_000_000)
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers serving the WSGI app on a local port."""

    def __init__(self):
        self.port = free_port()
        env = {
            **os.environ,
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "CONN_MAX_AGE": "60",
            "LOG_LEVEL": "ERROR",
        }
        env.pop("DEBUG", None)
        self.proc = subprocess.Popen(
            [
                str(REPO / ".venv/bin/gunicorn"),
                "billing_site.wsgi:application",
                "--workers=2",
                f"--bind={HOST}:{self.port}",
                "--log-level=warning",
                "--timeout=120",
            ],
            cwd=REPO,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request("GET", "/api/v1/schema/", port=self.port)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("api_bench: gunicorn did not answer within 30 s")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(method, path, body=None, *, port, key=None, idem=None):
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if idem:
        headers["Idempotency-Key"] = idem
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)
    finally:
        conn.close()


def drive(name: str, op, n: int) -> dict:
    """Run ``op(thread, i)`` ``n`` times over THREADS threads (at most SECONDS);
    ``op`` returns True when the operation succeeded."""
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(n))
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def worker(t):
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.perf_counter()
            try:
                ok = op(t, i)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                ok = repr(exc)
            elapsed = time.perf_counter() - start
            with lock:
                if ok is True:
                    latencies.append(elapsed)
                else:
                    failures.append(str(ok))

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    return {
        "name": name,
        "ok": len(latencies),
        "failed": len(failures),
        "first_failure": failures[0][:200] if failures else "",
        "per_s": len(latencies) / wall if wall else 0.0,
        "p50": percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "p95": percentile(latencies, 95) * 1000 if latencies else float("nan"),
        "wall": wall,
    }


def prepare():
    from bench.statement_bench import load_entries, vacuum_analyze
    from billing_site.api.models import ApiKey
    from ledger import services as ledger
    from ledger.services import LineSpec
    from payments import services as pay
    from wallets import services as wallets

    actor = ledger.system_actor("api-bench")
    tag = uuid.uuid4().hex[:8]
    _key, raw = ApiKey.create_with_key(name=f"bench {tag}")
    accounts = [
        ledger.create_account(
            name=f"API bench {tag} {t}", email="bench@example.test", currency="GBP", actor=actor
        )
        for t in range(THREADS)
    ]
    walls = []
    for account in accounts:
        wallet = wallets.create_wallet(account=account, name="Usage", actor=actor)
        wallets.top_up(wallet=wallet, amount="1000000.00", actor=actor, grant=True)
        walls.append(wallet.pk)
    per_thread = REQUESTS // THREADS + 1
    to_pay = [
        [
            pay.issue_invoice(
                invoice=ledger.create_invoice(
                    account=account, actor=actor, lines=[LineSpec("Service", "1", "75.00")]
                ),
                actor=actor,
            ).pk
            for _ in range(per_thread)
        ]
        for account in accounts
    ]
    big = ledger.create_account(
        name=f"API bench {tag} 1M", email="big@example.test", currency="GBP", actor=actor
    )
    load_seconds = load_entries(big, ENTRIES)
    vacuum_analyze()
    return {
        "key": raw,
        "accounts": [a.pk for a in accounts],
        "wallets": walls,
        "to_pay": to_pay,
        "big": big.pk,
        "load_seconds": load_seconds,
    }


def scenarios(port: int, w: dict) -> list[dict]:
    key = w["key"]

    def create_issue(t, i):
        body = {
            "account": w["accounts"][t],
            "lines": [{"description": "Seat", "quantity": "2", "unit_price": _gbp("37.50")}],
        }
        status, draft = request(
            "POST", "/api/v1/invoices/", body, port=port, key=key, idem=uuid.uuid4().hex
        )
        if status != 201:
            return f"create {status} {draft}"
        status, issued = request(
            "POST",
            f"/api/v1/invoices/{draft['id']}/issue/",
            {},
            port=port,
            key=key,
            idem=uuid.uuid4().hex,
        )
        return True if status == 200 else f"issue {status} {issued}"

    def mark_paid(t, i):
        queue = w["to_pay"][i % THREADS]  # i spreads evenly; a thread may run more
        if not queue:
            return "no invoice left"
        invoice = queue.pop()
        status, body = request(
            "POST",
            f"/api/v1/invoices/{invoice}/mark-paid/",
            {"method": "bank_transfer"},
            port=port,
            key=key,
            idem=uuid.uuid4().hex,
        )
        return True if status == 200 else f"{status} {body}"

    def drawdown(t, i):
        body = {"amount": _gbp("1.25"), "reference": f"meter-{uuid.uuid4().hex}"}
        status, out = request(
            "POST",
            f"/api/v1/wallets/{w['wallets'][t]}/drawdowns/",
            body,
            port=port,
            key=key,
            idem=uuid.uuid4().hex,
        )
        return True if status == 201 else f"{status} {out}"

    def statement(t, i):
        before = (i * 7919) % ENTRIES + 51 if i % 2 else None  # deep pages and the newest
        path = f"/api/v1/accounts/{w['big']}/statement/"
        if before:
            path += f"?before={before}"
        status, out = request("GET", path, port=port, key=key)
        return True if status == 200 and len(out["results"]) == 50 else f"{status}"

    return [
        drive("create + issue invoice (2 requests)", create_issue, REQUESTS),
        drive("mark invoice paid", mark_paid, REQUESTS),
        drive("wallet usage drawdown", drawdown, REQUESTS),
        drive(f"statement page at {ENTRIES:,} entries", statement, REQUESTS),
    ]


def _gbp(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def report(results: list[dict], w: dict) -> str:
    lines = [
        "## REST API through gunicorn (2 workers)",
        "",
        f"`bench/api_bench.py`: gunicorn 2 sync workers on 127.0.0.1, PostgreSQL, "
        f"{THREADS} client threads on the same machine (`http.client`, a new connection "
        f"per request), at most {REQUESTS} operations or {SECONDS:.0f} s per scenario; "
        "writes carry an `Idempotency-Key`. Statement account loaded with "
        f"{ENTRIES:,} entries in {w['load_seconds']:.1f} s (one SQL statement). "
        f"Load average at the end: {loadavg()}.",
        "",
        "| operation | ok | failed | ops/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['ok']} | {r['failed']} | {r['per_s']:.1f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} |"
        )
    failed = [r for r in results if r["failed"]]
    for r in failed:
        lines.append(f"\nFirst failure of '{r['name']}': `{r['first_failure']}`")
    return "\n".join(lines) + "\n"


def main() -> int:
    setup_django()
    world = prepare()
    server = Server()
    try:
        results = scenarios(server.port, world)
    finally:
        server.stop()
    print(report(results, world))
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
