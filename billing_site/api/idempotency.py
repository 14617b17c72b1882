"""Idempotent API writes, implemented once for every POST/PUT/PATCH.

A write runs in one transaction. With an ``Idempotency-Key`` header, that transaction
first inserts the key's ``IdempotencyRecord`` (unique on client + key), then runs the
view, then stores the response on the record — so the record exists exactly when the
effect does:

- a retry with the same key and the same request replays the stored response (same
  status, same body, header ``Idempotent-Replayed: true``) and posts nothing;
- the same key with another request (method, path or body) is refused with 422
  ``idempotency_key_reused``;
- two concurrent requests with one key: the second INSERT waits on the unique index
  until the first commits, then replays its response (if the first failed and rolled
  back, the second runs). The INSERT is ``ON CONFLICT DO NOTHING``: no savepoint;
  the record is inserted and then updated with the response (two statements: the
  INSERT must come before the view, it is what makes a concurrent duplicate wait);
- a refused request (any non-2xx answer) rolls back, key included: nothing is kept,
  and it may be retried with the same key once its cause is fixed.
"""

import hashlib
import json

from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from billing_site.api.auth import api_key_of
from billing_site.api.models import IdempotencyRecord
from billing_site.api.parsers import refuse_oversized
from ledger.errors import InvalidInput

HEADER = "Idempotency-Key"
WRITE_METHODS = ("POST", "PUT", "PATCH")
IN_PROGRESS = 102  # only ever seen inside the transaction that inserted the record


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"


class _Refused(Exception):
    def __init__(self, response):
        self.response = response


def client_of(request) -> str:
    key = api_key_of(request)
    return f"key:{key.pk}" if key is not None else f"user:{request.user.pk}"


def fingerprint(request) -> str:
    """SHA-256 of method, path with query, and the body (canonical when it is JSON).

    The body's size is checked before it is read (413), and JSON too deep to decode is
    hashed as it came: the parser refuses it with 400 right after."""
    refuse_oversized(request._request)
    raw = request._request.body
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        body = raw
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def clean_key(value: str) -> str:
    if not (1 <= len(value) <= 255) or not value.isprintable() or not value.isascii():
        raise exceptions.ValidationError(
            {HEADER: "must be 1 to 255 printable ASCII characters (e.g. a UUID)."}
        )
    return value


def stored_response(status: int, body: str, *, replayed: bool) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def replay(record: IdempotencyRecord, request_hash: str, key: str) -> HttpResponse:
    if record.request_hash != request_hash:
        raise KeyReused(
            f"{HEADER} '{key}' was already used for another request ({record.method} "
            f"{record.path}, different body); send a new key for a new request.",
            field=HEADER,
        )
    return stored_response(record.status_code, record.response_body, replayed=True)


def _sql() -> tuple[str, str]:
    """The record's two statements, raw: the ORM's ``create()`` in a savepoint and
    ``save()`` cost four round trips and more Python than the statements themselves.

    ``INSERT ... ON CONFLICT DO NOTHING`` needs no savepoint: on a key already
    committed it inserts nothing and returns no row; on a key whose transaction is still
    running it waits for that transaction, then inserts nothing (it committed) or
    inserts (it rolled back) — what the unique index did for the plain INSERT."""
    q = connection.ops.quote_name
    table = q(IdempotencyRecord._meta.db_table)
    columns = ("client", "key", "request_hash", "method", "path", "status_code")
    insert = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}, {q('response_body')}, "
        f"{q('created_at')}) VALUES ({', '.join(['%s'] * len(columns))}, '', %s) "
        f"ON CONFLICT ({q('client')}, {q('key')}) DO NOTHING RETURNING {q('id')}"
    )
    update = (
        f"UPDATE {table} SET {q('status_code')} = %s, {q('response_body')} = %s "
        f"WHERE {q('id')} = %s"
    )
    return insert, update


def insert_record(client: str, key: str, request_hash: str, request) -> int | None:
    """The new record's id, or None when ``(client, key)`` is already recorded."""
    insert, _update = _sql()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [client, key, request_hash, request.method, request.get_full_path()[:500]]
    with connection.cursor() as cursor:
        cursor.execute(insert, [*params, IN_PROGRESS, now])
        row = cursor.fetchone()
    return row[0] if row else None


def run_write(request, handler, *args, **kwargs):
    """Run a write view ``handler`` in one transaction, idempotently when keyed."""
    key = request.headers.get(HEADER)
    if key is None:
        with transaction.atomic():
            return handler(request, *args, **kwargs)
    key = clean_key(key)
    request_hash = fingerprint(request)
    client = client_of(request)
    try:
        with transaction.atomic():
            record_id = insert_record(client, key, request_hash, request)
            if record_id is None:
                existing = IdempotencyRecord.objects.get(client=client, key=key)
                return replay(existing, request_hash, key)
            response = handler(request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                raise _Refused(response)
            body = JSONRenderer().render(response.data).decode()
            with connection.cursor() as cursor:
                cursor.execute(_sql()[1], [response.status_code, body, record_id])
            return stored_response(response.status_code, body, replayed=False)
    except _Refused as refused:
        return refused.response


class IdempotentWritesMixin:
    """APIView.dispatch with every write routed through :func:`run_write`."""

    def dispatch(self, request, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = self.http_method_not_allowed
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            if request.method in WRITE_METHODS and handler != self.http_method_not_allowed:
                response = run_write(request, handler, *args, **kwargs)
            else:
                response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response
