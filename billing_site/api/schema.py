"""OpenAPI details: the scope each operation needs, and the error responses every
operation may give (one shape, ``Error``)."""

from drf_spectacular.openapi import AutoSchema

from billing_site.api.permissions import required_scope

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a stable code, a message saying what, where and why, "
    "and the field it is about (a path such as `lines[0].unit_price`, or null).",
    "properties": {
        "error": {"type": "string", "example": "insufficient_funds"},
        "detail": {"type": "string"},
        "field": {"type": "string", "nullable": True},
    },
    "required": ["error", "detail", "field"],
}

ERRORS = {
    "400": "Malformed request (the body is not JSON).",
    "401": "No API key, or an invalid or revoked one.",
    "403": "The key lacks the scope this operation needs (or a member session tried to write).",
    "404": "Not found, or not visible to this key or member.",
    "409": "State conflict: the object's state forbids it, funds are insufficient; or "
    "another change held the same records past the lock timeout (`lock_timeout`, "
    "with `Retry-After`).",
    "415": "The body must be application/json.",
    "422": "Invalid input (field validation, a business rule, an Idempotency-Key reused "
    "with another request).",
    "413": "The body is larger than the API accepts (`too_large`); nothing was changed.",
    "429": "Too many requests for this key, or too many failed authentications from this "
    "address (`throttled`); try again after `Retry-After` seconds.",
    "503": "The database cannot be reached or took too long (`database_unavailable`, "
    "`statement_timeout`); nothing was changed; try again after `Retry-After` seconds.",
}
READ_ERRORS = ("400", "401", "403", "404", "422", "429", "503")
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}


class BillfoldAutoSchema(AutoSchema):
    def get_description(self):
        text = super().get_description() or ""
        scope = required_scope(self.view, self.method.upper())
        note = f"**Scope:** `{scope}` (API key). "
        if self.method.upper() == "GET":
            note += "Member sessions may read their own accounts."
        else:
            note += "Accepts an `Idempotency-Key` header."
        return f"{text}\n\n{note}".strip()

    def get_override_parameters(self):
        params = super().get_override_parameters()
        if self.method.upper() in ("POST", "PUT", "PATCH"):
            from drf_spectacular.utils import OpenApiParameter

            params = [
                *params,
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="Retry-safe writes: the same key and body replay the first "
                    "response; the same key with another body is refused (422).",
                ),
            ]
        return params


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the ``Error`` component on every operation's refusals."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = READ_ERRORS if method == "get" else tuple(ERRORS)
            if not path.startswith("/api/v1/schema"):
                operation.setdefault("security", [{"ApiKey": []}, {"MemberSession": []}])
            for code in codes:
                response = {"description": ERRORS[code], "content": ref}
                if code in ("429", "503"):
                    response["headers"] = RETRY_AFTER
                operation["responses"].setdefault(code, response)
    return result


def only_api_views(endpoints):
    """Preprocessing hook: document DRF views only (not the JSON 404 catch-all)."""
    return [e for e in endpoints if hasattr(e[3], "cls")]
