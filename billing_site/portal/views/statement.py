"""The member's statement (their payments tab): page, CSV and PDF of a chosen period.

The page is keyset-paged through ``selectors.statement_page`` (a few queries whatever
the history length); the CSV is the staff tab's streamed export
(``ledger.csv_export``, constant memory); the PDF is the documents layer's statement
(``billing_site.documents.statements``, drawn with ReportLab in the page's look), and a
period longer than ``PDF_MAX_ROWS`` is refused with a page saying what to do instead,
counted from the period's seq range without a scan.
"""

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from billing_site.documents.pdf import pdf_download
from billing_site.documents.statements import StatementDocument, render_statement_pdf
from billing_site.portal.views.common import account_context, member_account
from ledger.csv_export import statement_csv_response
from ledger.models.entries import method_label
from ledger.selectors import entry_reference, iter_statement, period_range, statement_page
from ledger.statements import StatementFilterForm, paging_links, period_query

PDF_MAX_ROWS = 10_000


@dataclass(frozen=True)
class Line:
    """One statement row as the template shows it, on screen and on paper."""

    seq: int
    posted_at: datetime
    kind: str
    reference: str
    description: str
    method: str
    debit: Money | None
    credit: Money | None
    balance: Money
    invoice_id: int | None = None


def _line(seq, posted_at, kind, reference, description, method, debit, credit, balance, inv):
    return Line(
        seq=seq,
        posted_at=posted_at,
        kind=kind,
        reference=reference,
        description=description,
        method=method_label(method),
        debit=debit if debit.amount else None,
        credit=credit if credit.amount else None,
        balance=balance,
        invoice_id=inv,
    )


def line_from_entry(entry) -> Line:
    """The reference as the staff payments tab shows it (``entry_reference``: the kind,
    then the document's number)."""
    return _line(
        entry.seq,
        entry.posted_at,
        entry.kind,
        entry_reference(entry),
        entry.description,
        entry.method,
        entry.debit,
        entry.credit,
        entry.balance_after,
        entry.invoice_id,
    )


def line_from_row(row: tuple, currency: str) -> Line:
    """From an ``iter_statement`` tuple (Decimal amounts)."""
    seq, posted_at, kind, reference, description, method, debit, credit, balance = row
    return _line(
        seq,
        posted_at,
        kind,
        entry_reference(SimpleNamespace(kind=kind, reference=reference)),
        description,
        method,
        Money(debit, currency),
        Money(credit, currency),
        Money(balance, currency),
        None,
    )


def _period_words(date_from, date_to) -> str:
    if not (date_from or date_to):
        return "Whole history"
    start = f"From {date_from:%-d %b %Y}" if date_from else "From the first entry"
    end = f"to {date_to:%-d %b %Y}" if date_to else "to today"
    return f"{start} {end}"


def _filter(request) -> tuple[StatementFilterForm, list[str]]:
    form = StatementFilterForm(request.GET or None)
    problems = form.problems() if form.is_bound else []
    return form, problems


@login_required
def statement(request, account_id: int):
    account = member_account(request, account_id)
    form, problems = _filter(request)
    date_from, date_to = form.period() if form.is_bound else (None, None)
    before, after = form.cursors() if form.is_bound else (None, None)
    page = statement_page(
        account=account, date_from=date_from, date_to=date_to, before=before, after=after
    )
    base = reverse("member-statement", args=[account.pk])
    period = period_query(date_from, date_to)
    context = {
        **account_context(account, "statement"),
        "page": page,
        "lines": [line_from_entry(entry) for entry in page.rows],
        "form": form,
        "problems": problems,
        "fallback": form.fallback() if problems else "",
        "filtered": bool(date_from or date_to),
        "date_from": date_from,
        "date_to": date_to,
        "period_words": _period_words(date_from, date_to),
        "show_opening": page.is_oldest_page,
        **paging_links(base, page, date_from, date_to, paged=bool(before or after)),
        "csv_url": reverse("member-statement-csv", args=[account.pk]) + period,
        "pdf_url": reverse("member-statement-pdf", args=[account.pk]) + period,
        "pdf_too_long": page.entry_count > PDF_MAX_ROWS,
        "pdf_max_rows": PDF_MAX_ROWS,
    }
    return render(request, "member/statement.html", context)


def _bad_period(request, account, problems) -> HttpResponse:
    return render(
        request,
        "member/statement_unavailable.html",
        {**account_context(account, "statement"), "problems": problems, "too_long": False},
        status=400,
    )


@login_required
def statement_csv(request, account_id: int):
    account = member_account(request, account_id)
    form, problems = _filter(request)
    if problems:
        return _bad_period(request, account, problems)
    date_from, date_to = form.period() if form.is_bound else (None, None)
    return statement_csv_response(account, date_from, date_to)


@login_required
def statement_pdf(request, account_id: int):
    account = member_account(request, account_id)
    form, problems = _filter(request)
    if problems:
        return _bad_period(request, account, problems)
    date_from, date_to = form.period() if form.is_bound else (None, None)
    rng = period_range(account, date_from, date_to)
    count = max(0, rng.hi - rng.lo + 1)
    period = period_query(date_from, date_to)
    if count > PDF_MAX_ROWS:
        return render(
            request,
            "member/statement_unavailable.html",
            {
                **account_context(account, "statement"),
                "too_long": True,
                "count": count,
                "pdf_max_rows": PDF_MAX_ROWS,
                "period_words": _period_words(date_from, date_to),
                "csv_url": reverse("member-statement-csv", args=[account.pk]) + period,
                "statement_url": reverse("member-statement", args=[account.pk]) + period,
            },
            status=422,
        )
    currency = account.currency
    lines = [
        line_from_row(row, currency)
        for row in iter_statement(account=account, date_from=date_from, date_to=date_to)
    ]
    lines.reverse()  # newest first, as on the page
    document = StatementDocument(
        account_name=account.name,
        account_email=account.email,
        currency=currency,
        period_words=_period_words(date_from, date_to),
        entry_count=count,
        opening=Money(rng.opening, currency),
        closing=Money(rng.closing, currency),
        opening_date=f"{date_from:%-d %b %Y}" if date_from else "",
        lines=lines,
    )
    start = date_from.isoformat() if date_from else "start"
    end = (date_to or timezone.localdate()).isoformat()
    filename = f"account-{account.pk}-statement-{start}-to-{end}.pdf"
    return pdf_download(render_statement_pdf(document), filename)
