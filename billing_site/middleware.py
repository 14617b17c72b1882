"""Production hardening that spans the whole site (issue 13).

- ``DatabaseRefusalMiddleware``: a lock timeout, a statement timeout or a lost database is
  an answer with ``Retry-After`` — 409 or 503, JSON under ``/api/`` and a plain page
  elsewhere — never a 500 with a stack trace. The API's exception handler and
  ``handler500`` use the same :func:`database_refusal`.
- ``PermissionsPolicyMiddleware``: the ``Permissions-Policy`` header.
- :func:`lockout_response` and :func:`client_ip`: django-axes' lockout page (admin look on
  the admin login, member look on the member login) and the caller's address.
- A staff login's session lasts ``STAFF_SESSION_SECONDS`` (this module is imported when
  the WSGI handler loads its middleware, which connects the receiver before any login).
"""

import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

logger = logging.getLogger("billfold.database")

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout (or NOWAIT) gave up
QUERY_CANCELED = "57014"  # PostgreSQL: statement_timeout cancelled the statement
# Connection exception, operator intervention (shutdown, crash), insufficient resources
# (too many connections): the database is not there for us, whatever the statement.
UNAVAILABLE_CLASSES = ("08", "53", "57")
SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")  # the 20 s busy timeout ran out
SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


@dataclass(frozen=True)
class DatabaseRefusal:
    status: int
    code: str
    title: str
    detail: str
    retry_after: int

    def as_dict(self) -> dict:
        """The API's error shape (``billing_site.api.errors``)."""
        return {"error": self.code, "detail": self.detail, "field": None}


LOCK_TIMEOUT = DatabaseRefusal(
    409,
    "lock_timeout",
    "Someone else is changing this right now",
    "Another change to the same records is in progress and did not finish in time; "
    "nothing was changed. Try again in a few seconds.",
    retry_after=2,
)
STATEMENT_TIMEOUT = DatabaseRefusal(
    503,
    "statement_timeout",
    "This took too long",
    "The database took too long to answer and the request was stopped; any change it "
    "was making was rolled back. Try again shortly.",
    retry_after=10,
)
UNAVAILABLE = DatabaseRefusal(
    503,
    "database_unavailable",
    "Billfold is unavailable",
    "The database cannot be reached at the moment; nothing was changed. Try again in a minute.",
    retry_after=30,
)


def database_refusal(exc: BaseException | None) -> DatabaseRefusal | None:
    """What to answer for ``exc``, or ``None`` when it is not the database refusing (a
    bug, say a missing table, stays a 500 and is logged as one)."""
    if isinstance(exc, InterfaceError):  # the connection is already gone
        return UNAVAILABLE
    if not isinstance(exc, OperationalError):
        return None
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate == LOCK_NOT_AVAILABLE:
        return LOCK_TIMEOUT
    if sqlstate == QUERY_CANCELED:
        return STATEMENT_TIMEOUT
    if sqlstate and sqlstate[:2] in UNAVAILABLE_CLASSES:
        return UNAVAILABLE
    sqlite_name = getattr(cause, "sqlite_errorname", None)
    if sqlite_name in SQLITE_BUSY:
        return LOCK_TIMEOUT
    if sqlite_name in SQLITE_UNAVAILABLE:
        return UNAVAILABLE
    if sqlstate is None and sqlite_name is None:
        # psycopg reports a refused or dropped connection with no SQLSTATE at all.
        return UNAVAILABLE
    return None


def refusal_response(request, refusal: DatabaseRefusal) -> HttpResponse:
    """JSON in the API's error shape under ``/api/``, a page in the area's look elsewhere.
    The page renders without the request: no session, no user, no query."""
    if request.path.startswith("/api/"):
        response = JsonResponse(refusal.as_dict(), status=refusal.status)
    else:
        area = "admin" if request.path.startswith("/admin/") else "member"
        context = {"refusal": refusal, "area": area}
        html = render_to_string("errors/database.html", context)
        response = HttpResponse(html, status=refusal.status)
    response["Retry-After"] = str(refusal.retry_after)
    return response


class DatabaseRefusalMiddleware:
    """Turn the database's refusals raised by a view into 409/503 with ``Retry-After``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        refusal = database_refusal(exception)
        if refusal is None:
            return None
        logger.warning(
            "%s %s: %s (%s) -> %s",
            request.method,
            request.path,
            refusal.code,
            exception,
            refusal.status,
        )
        return refusal_response(request, refusal)


class PermissionsPolicyMiddleware:
    """``Permissions-Policy: <PERMISSIONS_POLICY>`` on every response."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


def client_ip(request) -> str:
    """The caller's address: ``REMOTE_ADDR``, or with ``TRUST_X_FORWARDED_FOR`` the last
    address of ``X-Forwarded-For`` (the one our own proxy appended; anything before it
    came from the client and proves nothing)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' ``AXES_LOCKOUT_CALLABLE``: the lockout page of the login that was
    used (admin or member), 429 with ``Retry-After`` = the cool-off."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {"minutes": math.ceil(seconds / 60)}
    if request.path.startswith(reverse("admin:index")):
        from django.contrib import admin

        context.update(admin.site.each_context(request), title="Too many failed logins")
        template = "admin/lockout.html"
    else:
        template = "member/auth/lockout.html"
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(seconds)
    return response


@receiver(user_logged_in, dispatch_uid="billfold-staff-session-length")
def limit_staff_session(sender, request, user, **kwargs):
    """Staff sessions end ``STAFF_SESSION_SECONDS`` after login; members keep
    ``SESSION_COOKIE_AGE``."""
    if user.is_staff and request is not None and hasattr(request, "session"):
        request.session.set_expiry(settings.STAFF_SESSION_SECONDS)
