"""The account statement as CSV, streamed.

The response is a ``StreamingHttpResponse`` over the period's rows read in batches:
memory stays constant whatever the history length, and no list of every row is ever
built. On PostgreSQL the entry rows come straight from ``COPY ... TO STDOUT WITH CSV``
(``ledger.csv_copy``, byte for byte what this module's Python writer gives); elsewhere
from ``selectors.iter_statement`` through ``csv.writer``. Amounts are plain decimal
strings at the currency's precision (``-12.50``, ``1200`` for JPY) — never floats — and
the first data row is the opening balance of the period, so a spreadsheet can re-add the
rows.
"""

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone
from moneyed import Money

from . import csv_copy
from .models import Account
from .money import plain
from .selectors import display_reference, iter_statement, period_range

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

_FORMULA_START = csv_copy.FORMULA_START  # a leading apostrophe for these (CSV injection)


class Echo:
    """A file-like object whose ``write`` returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet will not run: a leading formula character gets an
    apostrophe (CSV injection)."""
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def statement_filename(account: Account, date_from: date | None, date_to: date | None) -> str:
    start = date_from.isoformat() if date_from else "start"
    end = date_to.isoformat() if date_to else timezone.localdate().isoformat()
    return f"account-{account.pk}-statement-{start}-to-{end}.csv"


def _opening_row(account: Account, date_from: date | None, opening: Decimal) -> tuple:
    return (
        date_from.isoformat() if date_from else "",
        "",
        "",
        "Opening balance",
        "",
        "",
        "",
        plain(Money(opening, account.currency)),
        account.currency,
    )


def statement_rows(
    account: Account, date_from: date | None = None, date_to: date | None = None
) -> Iterator[tuple[str, ...]]:
    """Header, opening-balance row, then every entry of the period oldest first."""
    currency = account.currency

    def amount(value: Decimal) -> str:
        return plain(Money(value, currency))

    yield COLUMNS
    yield _opening_row(account, date_from, period_range(account, date_from, date_to).opening)
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
            safe_text(display_reference(kind, reference)),  # as the pages show it
            kind,
            safe_text(description),
            safe_text(method),
            amount(debit),
            amount(credit),
            amount(balance_after),
            currency,
        )


def statement_csv_lines(
    account: Account, date_from: date | None = None, date_to: date | None = None
) -> Iterator[str]:
    """The CSV text, a line (or, from COPY, a batch of lines as bytes) at a time."""
    if csv_copy.available():
        yield from _copied_lines(account, date_from, date_to)
        return
    writer = csv.writer(Echo())
    for row in statement_rows(account, date_from, date_to):
        yield writer.writerow(row)


def _copied_lines(account: Account, date_from: date | None, date_to: date | None):
    writer = csv.writer(Echo())
    rng = period_range(account, date_from, date_to)
    yield writer.writerow(COLUMNS) + writer.writerow(_opening_row(account, date_from, rng.opening))
    if not rng.empty:
        yield from csv_copy.entry_lines(account, rng.lo, rng.hi)


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
