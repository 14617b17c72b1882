"""The API's one request parser: JSON, bounded.

A body over ``MAX_BODY_BYTES`` is refused with 413 before it is read; JSON that is
malformed, uses ``NaN``/``Infinity``, or nests deeper than ``MAX_DEPTH`` is a 400
``malformed`` — Python's decoder would otherwise recurse until ``RecursionError``.
"""

import json

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

MAX_BODY_BYTES = 256 * 1024  # the largest real request (an invoice of 500 lines) is ~60 kB
MAX_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = f"The request body is larger than {MAX_BODY_BYTES // 1024} kB."


def _limit() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", MAX_BODY_BYTES)


def refuse_oversized(request) -> None:
    """413 when the declared body is over the limit (before anything reads it)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    limit = _limit()
    if declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit // 1024} kB.")


def _depth_ok(text: str, limit: int) -> bool:
    """Whether no array/object nests deeper than ``limit`` (strings are skipped)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        if request is not None:
            refuse_oversized(request)
        limit = _limit()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit // 1024} kB.")
        try:
            text = raw.decode(self.charset if hasattr(self, "charset") else "utf-8")
        except UnicodeDecodeError:
            raise exceptions.ParseError("The body is not UTF-8 text.") from None
        if not _depth_ok(text, MAX_DEPTH):
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        try:
            return json.loads(text, parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
