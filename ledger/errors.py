"""Domain errors. Raised by services, mapped once to admin messages and HTTP responses.

Every error says what was wrong, where (``field``), and why; ``http_status`` is the
status the API answers with (409 for a state conflict, 422 for invalid business input).
"""


class BillingError(Exception):
    code = "billing_error"
    http_status = 422

    def __init__(self, detail: str, field: str | None = None, *, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"error": self.code, "detail": self.detail, "field": self.field}


class InvalidInput(BillingError):
    """Well-formed input that breaks a business rule (422)."""

    code = "invalid"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"


class StateConflict(BillingError):
    """The object is not in a state that allows the operation (409)."""

    code = "state_conflict"
    http_status = 409


class InsufficientFunds(StateConflict):
    code = "insufficient_funds"
