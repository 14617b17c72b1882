"""Benchmark: every REST API write endpoint through gunicorn, beside the service it calls,
measured in the same run (issue 16).

    DATABASE_URL=postgres://... SECRET_KEY=bench .venv/bin/python bench/api_bench.py

Needs an already-migrated PostgreSQL (and, with DEBUG off, collected static files for
gunicorn's start check). For each write endpoint (``bench/api_scenarios.py``) it makes
targets through the services (untimed), then times, alternately in chunks:

* the **API**: one client thread sending the endpoint's request to gunicorn (the
  repository's ``gunicorn.conf.py`` with 2 workers) on 127.0.0.1 over a kept-alive
  connection, an ``Idempotency-Key`` on every write as an integration sends it;
* the **service**: the call the view makes, in this process, one at a time.

Both run one operation at a time, so the ratio is the API's cost per operation against
the service's. Prints a markdown section; exits 1 if any request or call failed.

Options (environment): API_BENCH_OPS (operations per side and endpoint, default 30).
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, loadavg, setup_django  # noqa: E402

OPS = int(os.environ.get("API_BENCH_OPS") or 30)
CHUNK = 10
RATIO_MIN = 0.5  # API ops/s / service ops/s
HOST = "127.0.0.1"
SERVER_ENV = {
    "ALLOWED_HOSTS": HOST,
    "SECURE_SSL_REDIRECT": "0",
    "CONN_MAX_AGE": "60",
    "API_RATE_PER_KEY": "1000000/min",  # measure the API, not its throttle's limit
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the WSGI app on a local port: the repository's production
    configuration (``gunicorn.conf.py``: gthread workers) with 2 workers, when it
    exists; else 2 sync workers."""

    def __init__(self):
        self.port = free_port()
        env = {
            **os.environ,
            **SERVER_ENV,
            "GUNICORN_BIND": f"{HOST}:{self.port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "GUNICORN_LOG_LEVEL": "warning",
            # The site plus the two floor views (bench/floor_urls.py).
            "DJANGO_SETTINGS_MODULE": "bench.floor_settings",
        }
        env.pop("DEBUG", None)
        config = REPO / "gunicorn.conf.py"
        if config.exists():
            self.description = "the repository's `gunicorn.conf.py` (gthread) with 2 workers"
            args = ["-c", str(config)]
        else:
            self.description = "2 sync workers"
            args = ["billing_site.wsgi:application", "--workers=2", f"--bind={HOST}:{self.port}"]
        self.proc = subprocess.Popen(
            [str(REPO / ".venv/bin/gunicorn"), *args, "--log-level=warning"], cwd=REPO, env=env
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


_KEPT: dict[int, http.client.HTTPConnection] = {}


def request(method, path, body=None, *, port, key=None, idem=None):
    """One request on a kept-alive connection to ``port`` (as an integration keeps its
    connection open); a connection the server closed is opened again once."""
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if idem:
        headers["Idempotency-Key"] = idem
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    for attempt in (1, 2):
        conn = _KEPT.get(port) or http.client.HTTPConnection(HOST, port, timeout=60)
        _KEPT[port] = conn
        try:
            conn.request(method, path, payload, headers)
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            _KEPT.pop(port, None)
            if attempt == 2:
                raise
            continue
        if response.will_close:
            conn.close()
            _KEPT.pop(port, None)
        return response.status, (json.loads(data) if data else None)
    raise AssertionError("unreachable")


def timed_chunks(api_targets, service_targets, api_op, service_op) -> dict:
    """Alternate chunks of API requests and service calls; seconds and failures each."""
    spent = {"api": 0.0, "service": 0.0}
    failures = {"api": [], "service": []}
    for start in range(0, max(len(api_targets), len(service_targets)), CHUNK):
        for side, targets, op in (
            ("api", api_targets, api_op),
            ("service", service_targets, service_op),
        ):
            for target in targets[start : start + CHUNK]:
                t = time.perf_counter()
                try:
                    outcome = op(target)
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    outcome = f"{type(exc).__name__}: {exc}"
                spent[side] += time.perf_counter() - t
                if outcome is not True:
                    failures[side].append(str(outcome)[:300])
    return {"spent": spent, "failures": failures}


def measure(scenario, port: int, key: str) -> dict:
    from django.db import connection

    row = {"endpoint": scenario.endpoint, "service": scenario.service}
    try:
        api_targets = [scenario.make() for _ in range(OPS)]
        service_targets = [scenario.make() for _ in range(OPS)]
    except Exception as exc:  # noqa: BLE001 - a scenario that cannot be set up is reported
        return row | {"error": f"set-up: {type(exc).__name__}: {exc}"[:300]}

    def api_op(target):
        method, path, body = scenario.request(target)
        status, out = request(
            method,
            "/api/v1" + path,
            body,
            port=port,
            key=key,
            idem=uuid.uuid4().hex if method != "GET" else None,
        )
        return True if status == scenario.expect else f"{status} {out}"

    def service_op(target):
        scenario.call(target)
        return True

    result = timed_chunks(api_targets, service_targets, api_op, service_op)
    connection.close()  # fresh for the next scenario (as a request would be)
    n_api = OPS - len(result["failures"]["api"])
    n_svc = OPS - len(result["failures"]["service"])
    api_rate = n_api / result["spent"]["api"] if result["spent"]["api"] else 0.0
    svc_rate = n_svc / result["spent"]["service"] if result["spent"]["service"] else 0.0
    return row | {
        "api_rate": api_rate,
        "service_rate": svc_rate,
        "api_ms": result["spent"]["api"] / OPS * 1000,
        "service_ms": result["spent"]["service"] / OPS * 1000,
        "failures": result["failures"],
    }


def baseline_get(port: int, key: str, account_id: int) -> float:
    """ms per ``GET /accounts/{id}/`` (the API stack's fixed cost, for the report)."""
    for _ in range(5):  # warm both workers up
        request("GET", f"/api/v1/accounts/{account_id}/", port=port, key=key)
    start = time.perf_counter()
    for _ in range(OPS):
        request("GET", f"/api/v1/accounts/{account_id}/", port=port, key=key)
    return (time.perf_counter() - start) / OPS * 1000


def floor_post(port: int, path: str, key: str | None) -> float:
    """ms per trivial DRF POST (``bench/floor_urls.py``) with a small JSON body and an
    ``Idempotency-Key`` header (ignored there), as the writes send it."""
    body = {"amount": {"amount": "1.25", "currency": "GBP"}, "reference": "floor"}
    for _ in range(10):
        request("POST", path, body, port=port, key=key, idem=uuid.uuid4().hex)
    n = OPS * 3
    start = time.perf_counter()
    for _ in range(n):
        status, _out = request("POST", path, body, port=port, key=key, idem=uuid.uuid4().hex)
        if status != 201:
            raise SystemExit(f"api_bench: floor {path} answered {status}")
    return (time.perf_counter() - start) / n * 1000


def report(rows: list[dict], fixed: dict, server: str) -> tuple[str, bool]:
    lines = [
        "## REST API write endpoints beside their services",
        "",
        f"`bench/api_bench.py`: every write endpoint of `/api/v1/` through gunicorn ({server}) "
        "on 127.0.0.1 and PostgreSQL, beside the service call its view makes, "
        f"{OPS} operations each, one at a time, alternating in chunks of {CHUNK} (targets made "
        "beforehand through the services). API requests carry an `Idempotency-Key`. Fixed "
        f"costs through the same server: `GET /accounts/{{id}}/` (read-only) "
        f"{fixed['get']:.1f} ms; the **floor**, a trivial DRF POST that parses a small JSON "
        f"body and answers it (`bench/floor_urls.py`: every middleware, no database) "
        f"{fixed['floor']:.1f} ms, and {fixed['floor_key']:.1f} ms behind the API's "
        "authentication, scope and throttle. Load average at the "
        f"end: {loadavg()}. The ratios are reported, not gated (issue 16: report all, name "
        "the ones under 0.5× and why); this section fails the run only when a request or a "
        "service call fails.",
        "",
        "| endpoint | service called | API ops/s | service ops/s | API / service | "
        "API ms | service ms | ≥ 0.5× |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    ok, below = True, []
    for r in rows:
        row_ok, ratio, row_lines = table_row(r)
        ok = ok and row_ok
        lines += row_lines
        if ratio is not None and ratio < RATIO_MIN:
            below.append((r, ratio))
    if below:
        lines += ["", why_below(below, len(rows), fixed)]
    lines += [
        "",
        "Not in the table: `POST /gateways/<name>/webhook/` (called by a gateway with a "
        "signed event, not with an API key; measured under load by `tests/live`).",
    ]
    return "\n".join(lines) + "\n", ok


def table_row(r: dict) -> tuple[bool, float | None, list[str]]:
    if "error" in r:
        line = (
            f"| {r['endpoint']} | {r['service']} | — | — | — | — | — | "
            f"**not measured**: {r['error']} |"
        )
        return False, None, [line]
    ratio = r["api_rate"] / r["service_rate"] if r["service_rate"] else 0.0
    lines = [
        f"| {r['endpoint']} | `{r['service']}` | {r['api_rate']:.0f} | "
        f"{r['service_rate']:.0f} | {ratio:.2f}× | {r['api_ms']:.1f} | "
        f"{r['service_ms']:.1f} | {'yes' if ratio >= RATIO_MIN else '**no**'} |"
    ]
    ok = True
    for side in ("api", "service"):
        if r["failures"][side]:
            ok = False
            lines.append(
                f"|  ↳ {side} failures: {len(r['failures'][side])} — "
                f"`{r['failures'][side][0][:200]}` | | | | | | | |"
            )
    return ok, ratio, lines


def why_below(below: list, total: int, fixed: dict) -> str:
    """The endpoints under the line, split by what stops them: 0.5× means API ms ≤ 2 ×
    service ms, i.e. everything around the service ≤ the service's own time."""
    floor = fixed["floor_key"]
    bound = [(r, x) for r, x in below if r["service_ms"] < floor]
    other = [(r, x) for r, x in below if r["service_ms"] >= floor]
    extras = sorted(r["api_ms"] - r["service_ms"] for r, _ in below)

    def names(items):
        return ", ".join(
            f"{r['endpoint']} ({x:.2f}×, service {r['service_ms']:.1f} ms)" for r, x in items
        )

    text = (
        f"**Under {RATIO_MIN}×: {len(below)} of {total}.** Reaching {RATIO_MIN}× needs "
        "everything the API does around the service to take no longer than the service "
        f"itself. Here the API adds {extras[0]:.1f}–{extras[-1]:.1f} ms (median "
        f"{extras[len(extras) // 2]:.1f} ms) to a write, of which the floor is "
        f"{fixed['floor']:.1f} ms without authentication and {floor:.1f} ms with it (HTTP "
        "over loopback, gunicorn's gthread worker, Django's middleware, DRF's request and "
        "response cycle, the key's SELECT and the shared throttle's statement, on 2 CPUs). "
    )
    if bound:
        text += (
            f"**Below the floor ({len(bound)})**: {names(bound)} — services quicker than "
            f"the {floor:.1f} ms floor itself, so no API layer in this stack could bring "
            "them to 0.5×. "
        )
    if other:
        text += (
            f"**Above the floor ({len(other)})**: {names(other)} — the rest of the gap is "
            "the write's own work: its `IdempotencyRecord` (one INSERT before the view, one "
            "UPDATE with the response), loading and checking the target, validating the "
            "body, the service's savepoint inside the write's transaction, rendering the "
            "response. "
        )
    return text.rstrip()


def main() -> int:
    os.environ.update(SERVER_ENV)  # the service side runs under the same settings
    setup_django()
    from bench.api_scenarios import World, scenarios
    from billing_site.api.models import ApiKey

    world = World()
    _key, raw = ApiKey.create_with_key(name=f"api bench {world.tag}")
    todo = scenarios(world)
    server = Server()
    try:
        fixed = {
            "get": baseline_get(server.port, raw, world.account.pk),
            "floor": floor_post(server.port, "/bench/floor/", None),
            "floor_key": floor_post(server.port, "/bench/floor-key/", raw),
        }
        rows = []
        for scenario in todo:
            print(f"api bench: {scenario.endpoint}", file=sys.stderr, flush=True)
            rows.append(measure(scenario, server.port, raw))
    finally:
        server.stop()
    text, ok = report(rows, fixed, server.description)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
