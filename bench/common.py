"""Shared helpers for the benchmarks: Django set-up, timing, machine and server facts.

Benchmarks run against the throw-away PostgreSQL started by ``bench/run.sh``; they
need ``DATABASE_URL`` and ``SECRET_KEY`` in the environment. Nothing here is a target:
targets live next to the figures they judge (``bench/ledger_bench.py``).
"""

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Configure Django for a benchmark process (parent or worker): DEBUG off, as in
    production, with the hosts and SSL redirect the test client needs."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.pop("DEBUG", None)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench: DATABASE_URL must point at PostgreSQL (use bench/run.sh).")
    import django

    django.setup()


def own_database(suffix: str) -> str:
    """Create a benchmark's own database (``<name><suffix>``) on the server of
    ``DATABASE_URL``, so the other benchmarks' rows do not count; return its URL."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + suffix
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(url: str, own: str) -> None:
    """Drop the database ``own`` (a URL) from the server of ``url``."""
    from urllib.parse import urlsplit

    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(own).path.lstrip("/")}"')


def median_ms(samples_s: list[float]) -> float:
    return statistics.median(samples_s) * 1000.0


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        return False


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def loadavg() -> str:
    """1/5/15-minute load averages: the machine is shared, so say how busy it was."""
    return " ".join(_read("/proc/loadavg").split()[:3]) or "unknown"


def machine_facts() -> dict[str, str]:
    cpu = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ram = "unknown"
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
            break
    fs = "unknown"
    data_dir = os.environ.get("BILLFOLD_PG_DATA") or "/tmp"
    try:
        out = (
            subprocess.run(["df", "-T", data_dir], capture_output=True, text=True, check=True)
            .stdout.splitlines()[-1]
            .split()
        )
        fs = f"{out[1]} ({out[0]})"
    except (OSError, subprocess.CalledProcessError, IndexError):
        pass
    return {
        "nproc": str(os.cpu_count()),
        "CPU": cpu,
        "RAM": ram,
        "kernel": platform.release(),
        "PostgreSQL data filesystem": fs,
    }


SERVER_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_sync_method",
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "max_wal_size",
    "checkpoint_timeout",
    "max_connections",
    "default_transaction_isolation",
)


def software_and_server() -> tuple[dict[str, str], dict[str, str]]:
    """(versions, server settings) read from the running processes, never assumed."""
    import django
    import djmoney
    import psycopg
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
        settings = {}
        for name in SERVER_SETTINGS:
            cur.execute(f"SHOW {name}")
            settings[name] = cur.fetchone()[0]
    versions = {
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "django-money": getattr(djmoney, "__version__", "?"),
        "psycopg": psycopg.__version__,
        "PostgreSQL": pg_version,
    }
    return versions, settings
