"""The account statement as CSV, streamed.

The response is a ``StreamingHttpResponse`` over ``selectors.iter_statement``, which
reads the period in keyset batches: memory stays constant whatever the history length,
and no list of every row is ever built. Amounts are plain decimal strings at the
currency's precision (``-12.50``, ``1200`` for JPY) — never floats — and the first data
row is the opening balance of the period, so a spreadsheet can re-add the rows.
"""

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone
from moneyed import Money

from .models import Account
from .money import plain
from .selectors import iter_statement, period_range

COLUMNS = (
    "date",
    "reference",
    "kind",
    "description",
    "method",
    "debit",
    "credit",
    "balance",
    "currency",
)

# A cell starting with one of these is read as a formula by spreadsheet programs; text
# cells that start with one get a leading apostrophe (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose ``write`` returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _text(value: str) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def statement_filename(account: Account, date_from: date | None, date_to: date | None) -> str:
    start = date_from.isoformat() if date_from else "start"
    end = date_to.isoformat() if date_to else timezone.localdate().isoformat()
    return f"account-{account.pk}-statement-{start}-to-{end}.csv"


def statement_rows(
    account: Account, date_from: date | None = None, date_to: date | None = None
) -> Iterator[tuple[str, ...]]:
    """Header, opening-balance row, then every entry of the period oldest first."""
    currency = account.currency

    def amount(value: Decimal) -> str:
        return plain(Money(value, currency))

    yield COLUMNS
    opening = period_range(account, date_from, date_to).opening
    yield (
        date_from.isoformat() if date_from else "",
        "",
        "",
        "Opening balance",
        "",
        "",
        "",
        amount(opening),
        currency,
    )
    for (
        _seq,
        posted_at,
        kind,
        reference,
        description,
        method,
        debit,
        credit,
        balance_after,
    ) in iter_statement(account=account, date_from=date_from, date_to=date_to):
        yield (
            timezone.localtime(posted_at).isoformat(timespec="seconds"),
            _text(reference),
            kind,
            _text(description),
            _text(method),
            amount(debit),
            amount(credit),
            amount(balance_after),
            currency,
        )


def statement_csv_lines(
    account: Account, date_from: date | None = None, date_to: date | None = None
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in statement_rows(account, date_from, date_to):
        yield writer.writerow(row)


def statement_csv_response(
    account: Account, date_from: date | None = None, date_to: date | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        statement_csv_lines(account, date_from, date_to), content_type="text/csv; charset=utf-8"
    )
    filename = statement_filename(account, date_from, date_to)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
