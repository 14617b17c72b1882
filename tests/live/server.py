"""A live gunicorn: ``gunicorn.conf.py`` (gthread workers) on a free 127.0.0.1 port,
production settings from the environment (DEBUG off), against the database this
process's Django connection uses (the test database pytest-django created)."""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

ROOT = Path(__file__).resolve().parents[2]
STATIC_PROBE = "/static/admin/css/base.css"
# Variables of this process that must not leak into the server's production settings.
NOT_INHERITED = ("DJANGO_", "PYTEST_", "TRUST_", "SECURE_", "BILLFOLD_", "SANDBOX_", "API_RATE_")
NOT_INHERITED_NAMES = ("DEBUG", "DATABASE_URL", "PORT", "HOST", "GUNICORN_BIND", "STATIC_ROOT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """``postgres://`` URL of the database ``settings_dict`` names (the test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(settings_dict.get("HOST") or "localhost", safe="")
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def assert_migrated():
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert not unapplied, f"test database not migrated: {unapplied[:3]}"


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        """The body as JSON; ``None`` when empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class LiveServer:
    """``python -m gunicorn -c gunicorn.conf.py`` with production settings from the
    environment; ``extra`` environment variables override the defaults below."""

    def __init__(self, log_dir: Path, **extra):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        self.log = open(self.log_path, "w+")  # noqa: SIM115 - closed in stop()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(NOT_INHERITED) and k not in NOT_INHERITED_NAMES
        }
        env.update(
            DJANGO_SETTINGS_MODULE="tests.live.settings",
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(64),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            DATABASE_URL=database_url(connection.settings_dict),
            PORT=str(self.port),
            HOST="127.0.0.1",
            GUNICORN_WORKERS="2",
            GUNICORN_THREADS="4",
            GUNICORN_GRACEFUL_TIMEOUT="5",
            # The fuzz and the burst send thousands of requests with one key.
            API_RATE_PER_KEY="1000000/min",
            API_RATE_FAILED_AUTH_PER_IP="1000000/min",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            BILLFOLD_SANDBOX_GATEWAY="1",
            SANDBOX_WEBHOOK_SECRET=secrets.token_urlsafe(48),
            LOG_LEVEL="ERROR",  # 5xx (and tracebacks); not every refused 4xx
        )
        env.update(extra)
        self.workers = int(env["GUNICORN_WORKERS"])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.wait_ready()

    @property
    def master_pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The master's children (gunicorn's workers), from /proc."""
        path = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def wait_ready(self, timeout: float = 60):
        """Until every worker is up and a static file is served (no database needed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited: {self.output()}"
            if len(self.worker_pids()) >= self.workers:
                try:
                    if self.request("GET", STATIC_PROBE, timeout=5).status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start: {self.output()}")

    def request(self, method, path, body=None, headers=None, timeout=30) -> Answer:
        """One request on a new connection; ``OSError``/``HTTPException`` on a dropped one."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = dict(headers or {})
            if payload is not None:
                headers.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return Answer(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
