"""The member's statement: running balances of a known history, paging, a month's
filter with its opening balance, CSV and PDF of the period (issue 6)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from .pages import gbp, pdf_text, squash, table_rows

pytestmark = pytest.mark.django_db

FEB = {"from": "2026-02-01", "to": "2026-02-28"}


def statement_url(account, view="member-statement"):
    return reverse(view, args=[account.pk])


def body_rows(response):
    """Entry rows (reference, debit, credit, balance) and the opening row, if shown."""
    rows = table_rows(response.content, "statement")
    entries = [(r[1], r[4], r[5], r[6]) for r in rows if len(r) == 7]
    opening = [r[-1] for r in rows if len(r) == 3 and r[1] == "Opening balance"]
    return entries, opening


def expected(rows):
    """Newest first, as (reference, debit, credit, balance) strings of the page."""
    return [
        (
            r.shown,
            gbp(r.debit) if r.debit else "",
            gbp(r.credit) if r.credit else "",
            gbp(r.balance),
        )
        for r in reversed(rows)
    ]


def test_newest_page_shows_running_balances_and_header(member_client, history):
    response = member_client.get(statement_url(history.account))
    assert response.status_code == 200
    html = response.content.decode()
    entries, opening = body_rows(response)
    assert entries == expected(history.rows)[:50]
    assert opening == []  # not the oldest page yet
    assert gbp("-50.00") == gbp(history.closing)
    assert 'aria-label="Current balance"' in html and "owed" in html
    assert 'rel="next"' in html  # an older page exists


def test_older_page_ends_with_the_opening_balance(member_client, history):
    first = member_client.get(statement_url(history.account))
    older_seq = len(history.rows) - 50 + 1  # oldest seq on the first page
    response = member_client.get(statement_url(history.account), {"before": older_seq})
    entries, opening = body_rows(response)
    assert entries == expected(history.rows)[50:]
    assert opening == [gbp("0")]
    assert f"?before={older_seq}" in first.content.decode()
    newer = response.content.decode()
    assert 'rel="prev"' in newer and "Newest" in newer


def test_month_filter_has_its_opening_balance(member_client, history):
    response = member_client.get(statement_url(history.account), FEB)
    entries, opening = body_rows(response)
    feb = history.in_period(date(2026, 2, 1), date(2026, 2, 28))
    assert [e[0] for e in entries] == [r.shown for r in reversed(feb)]
    assert entries == expected(feb)
    assert opening == [gbp(history.opening_of(date(2026, 2, 1)))] == [gbp("-20.00")]
    html = response.content.decode()
    assert "From 1 Feb 2026 to 28 Feb 2026" in html
    csv_link = f"/accounts/{history.account.pk}/statement/csv/?from=2026-02-01&amp;to=2026-02-28"
    assert f'href="{csv_link}"' in html


def test_bad_dates_say_what_is_shown_instead(member_client, history):
    response = member_client.get(
        statement_url(history.account), {"from": "2026-13-01", "to": "2026-02-28"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "From: Enter a real date as YYYY-MM-DD." in html
    assert "Showing the valid part of the period instead." in html


def test_csv_of_a_month_streams_the_same_rows(member_client, history):
    response = member_client.get(statement_url(history.account, "member-statement-csv"), FEB)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:8] == [
        "date",
        "reference",
        "kind",
        "description",
        "method",
        "debit",
        "credit",
        "balance",
    ]
    assert rows[1][3] == "Opening balance" and rows[1][7] == "-20.00"
    feb = history.in_period(date(2026, 2, 1), date(2026, 2, 28))
    # References as the page shows them (PAYM-INV-…, not the stored INVC-INV-…).
    assert [(r[1], Decimal(r[7])) for r in rows[2:]] == [(r.shown, r.balance) for r in feb]


def test_csv_with_a_bad_period_is_refused_clearly(member_client, history):
    url = statement_url(history.account, "member-statement-csv")
    response = member_client.get(url, {"from": "2026-03-01", "to": "2026-02-01"})
    assert response.status_code == 400
    assert "is after the end date" in response.content.decode()


def test_pdf_of_a_month_holds_the_page_rows_and_closing_balance(member_client, history):
    page = member_client.get(statement_url(history.account), FEB)
    response = member_client.get(statement_url(history.account, "member-statement-pdf"), FEB)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="account-{history.account.pk}-statement-2026-02-01-to-'
        '2026-02-28.pdf"'
    )
    text = pdf_text(response.content)
    flat = squash(text)
    entries, opening = body_rows(page)
    for reference, debit, credit, balance in entries:
        assert squash(f"{reference}") in flat
        assert squash(f"{debit}{credit}{balance}") in flat, (reference, balance)
    assert squash(f"Closing balance{gbp('-20.00')}") in flat
    assert squash(f"Opening balance{gbp('-20.00')}") in flat
    assert "Known History Ltd" in text and "accounts@known-history.test" in text
    assert "From 1 Feb 2026 to 28 Feb 2026" in text
    assert "Page 1 of 1" in text


def test_pdf_of_the_whole_history_has_page_numbers(member_client, history):
    response = member_client.get(statement_url(history.account, "member-statement-pdf"))
    text = pdf_text(response.content)
    assert "Page 1 of " in text
    assert squash(f"Closing balance{gbp(history.closing)}") in squash(text)
    for row in history.rows:
        assert squash(row.shown) in squash(text)
