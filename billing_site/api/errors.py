"""One error shape for every refusal: ``{"error": code, "detail": message, "field": path}``.

- 400 ``malformed``: the body is not JSON (or not the JSON type expected).
- 401 ``not_authenticated`` / ``authentication_failed``: no key, or a bad/revoked key.
- 403 ``forbidden``: the key lacks the scope, or a member session tried to write.
- 404 ``not_found``: absent *or not yours* — the same answer, never a hint.
- 405/406/415: method, Accept or Content-Type not supported.
- 409: a state conflict (``ledger.errors.StateConflict``: forbidden transition,
  insufficient funds, idempotency key reused with another body).
- 422: valid JSON, invalid business input (field validation and ``InvalidInput``).
- 409 ``lock_timeout``: another transaction held the rows longer than the lock timeout
  (``Retry-After``); 503 ``statement_timeout`` / ``database_unavailable``: the statement
  was cancelled, or the database cannot be reached (``Retry-After``).
- 429 ``throttled``: too many requests for the key, or too many failed authentications
  from the address (``Retry-After``).
- 500 ``server_error``: a bug; logged, never with internals in the body.
"""

import logging
import math
import sys

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from billing_site.middleware import database_refusal, refusal_response
from ledger.errors import BillingError

logger = logging.getLogger("billfold.api")


def error_body(code: str, detail: str, field: str | None = None) -> dict:
    return {"error": code, "detail": detail, "field": field}


def _flatten(errors, path: str = ""):
    """Yield ``(field_path, message, code)`` from DRF's nested error structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "non_field_errors":
                yield from _flatten(value, path)
            else:
                yield from _flatten(value, f"{path}.{key}" if path else str(key))
    elif isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            for e in errors:
                yield path or None, str(e), getattr(e, "code", "invalid")
        else:
            for i, value in enumerate(errors):
                if value:
                    yield from _flatten(value, f"{path}[{i}]")
    else:
        yield path or None, str(errors), getattr(errors, "code", "invalid")


def validation_body(detail) -> dict:
    items = list(_flatten(detail)) or [(None, "Invalid input.", "invalid")]
    field, _message, code = items[0]
    text = "; ".join(f"{f}: {m}" if f else m for f, m, _c in items)
    if code in (None, "invalid", "required", "null", "blank", "does_not_exist"):
        code = "invalid"
    return error_body(code, text, field)


STATUS_CODES = {
    status.HTTP_400_BAD_REQUEST: "malformed",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def to_response(exc) -> tuple[int, dict, dict]:
    """``(status, body, headers)`` for any exception raised while serving the API."""
    headers = {}
    if isinstance(exc, BillingError):
        return exc.http_status, exc.as_dict(), headers
    if isinstance(exc, Http404 | ObjectDoesNotExist | exceptions.NotFound):
        return 404, error_body("not_found", "Not found."), headers
    if isinstance(exc, PermissionDenied):
        return 403, error_body("forbidden", str(exc) or "Not allowed."), headers
    if isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        field, texts = next(iter(messages.items()))
        return 422, error_body("invalid", "; ".join(texts), field or None), headers
    if isinstance(exc, exceptions.ValidationError):
        return 422, validation_body(exc.detail), headers
    if isinstance(exc, exceptions.APIException):
        code = STATUS_CODES.get(exc.status_code, exc.default_code)
        if isinstance(exc, exceptions.AuthenticationFailed):
            code = "authentication_failed"
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return exc.status_code, error_body(code, detail), headers
    if isinstance(exc, ProtectedError):
        return 409, error_body("state_conflict", "Other records refer to it."), headers
    if isinstance(exc, IntegrityError):
        logger.warning("API write refused by a database constraint: %s", exc)
        return 409, error_body("conflict", "Refused by a database constraint."), headers
    if isinstance(exc, DataError):
        return 422, error_body("invalid", "A value is out of range for its field."), headers
    refusal = database_refusal(exc)
    if refusal is not None:
        logger.warning("API request refused by the database: %s (%s)", refusal.code, exc)
        headers["Retry-After"] = str(refusal.retry_after)
        return refusal.status, refusal.as_dict(), headers
    logger.exception("Unexpected error in the API", exc_info=exc)
    return 500, error_body("server_error", "Unexpected error; it was logged."), headers


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every exception becomes the one error shape."""
    code, body, headers = to_response(exc)
    response = Response(body, status=code, headers=headers)
    if code == 401 and "WWW-Authenticate" not in headers:
        response["WWW-Authenticate"] = 'Bearer realm="billfold"'
    return response


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Unknown paths under ``/api/``: a JSON 404 instead of Django's HTML page."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def handler404(request, exception=None):
    """For ``billing_site.urls.handler404``: JSON for ``/api/`` paths, HTML otherwise."""
    if request.path.startswith("/api/"):
        return not_found_view(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    """For ``billing_site.urls.handler500``: JSON for ``/api/`` paths, HTML otherwise.
    A database refusal raised outside a view (in a middleware, say the session's) gets
    the same 409/503 answer as one raised in a view."""
    refusal = database_refusal(sys.exc_info()[1])
    if refusal is not None:
        return refusal_response(request, refusal)
    if request.path.startswith("/api/"):
        body = error_body("server_error", "Unexpected error; it was logged.")
        return JsonResponse(body, status=500)
    from django.views.defaults import server_error

    return server_error(request)
