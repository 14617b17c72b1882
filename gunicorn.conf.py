"""gunicorn settings for Billfold: ``gunicorn -c gunicorn.conf.py billing_site.wsgi``
(``make serve``). Every value can be changed from the environment (README "Deploy").

Threaded workers (gthread): a request mostly waits on PostgreSQL, so a few processes
with several threads each serve many requests at once; each thread holds at most one
database connection (``CONN_MAX_AGE`` keeps it between requests).
"""

import math
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


wsgi_app = "billing_site.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
)
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _int("GUNICORN_THREADS", 4)

# A worker silent for longer than `timeout` is killed and restarted. PostgreSQL cancels
# a statement after DB_STATEMENT_TIMEOUT_MS (the same variable the settings read), so the
# worker timeout sits above it: a slow query becomes a 503 with Retry-After, not a
# killed worker and a dropped connection.
STATEMENT_TIMEOUT_S = math.ceil(_int("DB_STATEMENT_TIMEOUT_MS", 30000) / 1000)
timeout = _int("GUNICORN_TIMEOUT", STATEMENT_TIMEOUT_S + 30)
if timeout <= STATEMENT_TIMEOUT_S:
    raise RuntimeError(
        f"GUNICORN_TIMEOUT={timeout} s must be above the statement timeout "
        f"(DB_STATEMENT_TIMEOUT_MS = {STATEMENT_TIMEOUT_S} s)."
    )
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (a slow leak never grows without bound); jittered so
# that they do not all restart at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0

# Whether a request came over HTTPS is Django's decision alone (SECURE_PROXY_SSL_HEADER,
# set only with TRUST_X_FORWARDED_PROTO=1). gunicorn would otherwise believe
# X-Forwarded-Proto from any client on 127.0.0.1 (its default forwarded_allow_ips).
secure_scheme_headers = {}
forwarded_allow_ips = ""

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or "-"  # "-" = standard output
errorlog = "-"
loglevel = (os.environ.get("GUNICORN_LOG_LEVEL") or "info").lower()
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(a)s" %(M)sms'
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No `gunicornc` control socket (gunicorn >= 25): a second instance on the host would
# fight over its one default path.
control_socket_disable = True
