"""The account's Payments tab in the admin and its CSV download (SPEC section 3)."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from moneyed import Money

from ledger import services
from ledger.services import Posting

pytestmark = pytest.mark.django_db


class _StatementParser(HTMLParser):
    """Collects the text of every cell of ``<table id="statement">``, row by row."""

    def __init__(self):
        super().__init__()
        self.in_table = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "statement") in attrs:
            self.in_table = True
        elif self.in_table and tag == "tr":
            self.rows.append([])
        elif self.in_table and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = False
        elif self.in_table and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def statement_rows(response) -> list[list[str]]:
    """Body rows of the statement table: [date, reference, description, method, debit,
    credit, balance] (the opening row has its label spanning the middle columns)."""
    parser = _StatementParser()
    parser.feed(response.content.decode())
    rows = parser.rows[1:]  # drop the header row
    # The kind column after the date (INVC/PAYM/CRED/CRMO) is left out here.
    return [row[:1] + row[2:] if len(row) == 8 else row for row in rows]


def payments_url(account, **params):
    url = reverse("admin:ledger_account_payments", args=[account.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def csv_url(account, **params):
    url = reverse("admin:ledger_account_payments_csv", args=[account.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def bulk_history(account, n, actor):
    """``n`` entries in one posting call: invoices of 10.00 and payments of 4.00."""
    postings = [
        Posting(kind="INVC", amount=Money("10.00", account.currency), reference=f"INVC-B{i}")
        if i % 2 == 0
        else Posting(
            kind="PAYM",
            amount=Money("4.00", account.currency),
            reference=f"PAYM-B{i}",
            method="bank_transfer",
        )
        for i in range(n)
    ]
    services.post(account=account, postings=postings, actor=actor)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


@pytest.fixture
def known_history(account, actor):
    """INVC 75.00 (-75.00), PAYM 50.00 (-25.00), PAYM 40.00 (+15.00), on three dates."""
    gbp = "GBP"
    services.post(
        account=account,
        postings=[Posting(kind="INVC", amount=Money("75.00", gbp), reference="INVC-INV-000001")],
        actor=actor,
        at=at("2024-01-10"),
    )
    services.post(
        account=account,
        postings=[
            Posting(kind="PAYM", amount=Money("50.00", gbp), reference="PAYM-A", method="cash")
        ],
        actor=actor,
        at=at("2024-02-10"),
    )
    services.post(
        account=account,
        postings=[
            Posting(kind="PAYM", amount=Money("40.00", gbp), reference="PAYM-B", method="card")
        ],
        actor=actor,
        at=at("2024-03-10"),
    )
    account.refresh_from_db()
    return account


# --- query count does not grow with history ---------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # warm caches (session, content types) the same way for both
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_same_query_count_for_10_and_5000_entries(admin_client, make_account, actor):
    small, large = make_account(), make_account()
    bulk_history(small, 10, actor)
    bulk_history(large, 5000, actor)

    newest_small = _queries(admin_client, payments_url(small))
    newest_large = _queries(admin_client, payments_url(large))
    assert newest_small == newest_large

    deep_small = _queries(admin_client, payments_url(small, before=5))
    deep_large = _queries(admin_client, payments_url(large, before=2500))
    assert deep_small == deep_large

    dated_small = _queries(admin_client, payments_url(small, **{"from": "2000-01-01"}))
    dated_large = _queries(admin_client, payments_url(large, **{"from": "2000-01-01"}))
    assert dated_small == dated_large

    rows = statement_rows(admin_client.get(payments_url(large, before=2500)))
    assert len(rows) == 50  # a full page, deep in history, without an opening row


# --- what the page shows ------------------------------------------------------------------


def test_running_balance_and_header(admin_client, known_history):
    response = admin_client.get(payments_url(known_history))
    assert response.status_code == 200
    text = response.content.decode()
    assert known_history.name in text
    assert "£15.00" in text and "in credit" in text
    rows = statement_rows(response)
    # newest first: date, reference, description, method, debit, credit, balance
    assert [r[1] for r in rows[:3]] == ["PAYM-B", "PAYM-A", "INVC-INV-000001"]
    assert [r[-1] for r in rows] == ["£15.00", "-£25.00", "-£75.00", "£0.00"]
    assert rows[0][3:6] == ["Card", "", "£40.00"]
    assert rows[2][4:6] == ["£75.00", ""]
    assert rows[-1][1] == "Opening balance"
    assert '<th scope="col" class="num">Balance</th>' in text
    # both tabs, the Payments one current
    assert reverse("admin:ledger_account_change", args=[known_history.pk]) in text
    assert 'aria-current="page">Payments' in text


@pytest.mark.parametrize(
    ("postings", "words"),
    [((), "settled"), (("INVC", "5.00"), "in debt"), (("PAYM", "5.00"), "in credit")],
)
def test_balance_words(admin_client, account, actor, postings, words):
    if postings:
        kind, amount = postings
        services.post(
            account=account,
            postings=[Posting(kind=kind, amount=Money(amount, "GBP"), reference="R-1")],
            actor=actor,
        )
    response = admin_client.get(payments_url(account))
    assert f'billfold-state {words.replace(" ", "-")}">{words}<' in response.content.decode()


def test_date_filter_shows_period_and_opening_balance(admin_client, known_history):
    response = admin_client.get(
        payments_url(known_history, **{"from": "2024-02-01", "to": "2024-02-29"})
    )
    assert response.status_code == 200
    rows = statement_rows(response)
    assert len(rows) == 2
    assert rows[0][1] == "PAYM-A" and rows[0][-1] == "-£25.00"
    assert rows[1][1] == "Opening balance" and rows[1][-1] == "-£75.00"
    # the CSV link keeps the period
    assert (
        csv_url(known_history, **{"from": "2024-02-01", "to": "2024-02-29"}).replace("&", "&amp;")
        in response.content.decode()
    )


def test_empty_period_says_so(admin_client, known_history):
    response = admin_client.get(payments_url(known_history, **{"from": "2025-01-01"}))
    text = response.content.decode()
    assert "No entries in this period." in text
    rows = statement_rows(response)
    assert rows[-1][1] == "Opening balance" and rows[-1][-1] == "£15.00"


def test_paging_older_and_newer_keeps_the_period(admin_client, account, actor):
    bulk_history(account, 120, actor)  # one posting call: every entry the same instant
    first = admin_client.get(payments_url(account))
    page = first.context["page"]
    assert [e.seq for e in page.rows][:1] == [120] and len(page.rows) == 50
    assert page.newer_cursor is None and page.older_cursor == 71
    assert "?before=71" in first.content.decode()
    assert "Opening balance" not in first.content.decode()

    second = admin_client.get(payments_url(account, before=71))
    assert [e.seq for e in second.context["page"].rows][::49] == [70, 21]
    third = admin_client.get(payments_url(account, before=21))
    rows = statement_rows(third)
    assert rows[-1][1] == "Opening balance" and rows[-1][-1] == "£0.00"
    assert len(rows) == 21
    assert "?after=20" in third.content.decode()
    back = admin_client.get(payments_url(account, after=20))
    assert [e.seq for e in back.context["page"].rows][::49] == [70, 21]

    day = account.last_posted_at.date().isoformat()
    dated = admin_client.get(payments_url(account, **{"from": day, "to": day}))
    assert f"?from={day}&amp;to={day}&amp;before=71" in dated.content.decode()


# --- bad input is a message, never a 500 --------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2024-02-30"}, "From: Enter a real date as YYYY-MM-DD."),
        ({"from": "2024-02-30"}, "Showing the whole history instead."),
        ({"from": "2024-02-30", "to": "2024-02-29"}, "Showing the valid part of the period"),
        ({"before": "-4"}, "The page link is not valid."),
        ({"before": "-4"}, "Showing the newest page instead."),
        ({"to": "yesterday"}, "To: Enter a real date as YYYY-MM-DD."),
        ({"from": "0001-01-01"}, "From: Choose a date between"),
        ({"to": "9999-12-31"}, "To: Choose a date between"),
        ({"from": "2024-03-01", "to": "2024-02-01"}, "is after the end date"),
        ({"before": "x"}, "The page link is not valid."),
        ({"before": "3", "after": "1"}, "cannot go both older and newer"),
    ],
)
def test_invalid_filters_show_a_message(admin_client, known_history, params, message):
    response = admin_client.get(payments_url(known_history, **params))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(statement_rows(response)) >= 1


def test_csv_with_invalid_dates_is_a_clear_400(admin_client, known_history):
    response = admin_client.get(csv_url(known_history, **{"from": "2024-13-01"}))
    assert response.status_code == 400
    assert "From: Enter a real date" in response.content.decode()


# --- CSV ------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_whole_history(admin_client, known_history):
    response = admin_client.get(csv_url(known_history))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"account-{known_history.pk}-statement-start-to-" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == [
        "date",
        "reference",
        "kind",
        "description",
        "method",
        "debit",
        "credit",
        "balance",
        "currency",
    ]
    assert rows[1] == ["", "", "", "Opening balance", "", "", "", "0.00", "GBP"]
    assert [r[1] for r in rows[2:]] == ["INVC-INV-000001", "PAYM-A", "PAYM-B"]  # oldest first
    assert rows[2][5:] == ["75.00", "0.00", "-75.00", "GBP"]
    assert rows[4][0].startswith("2024-03-10T10:00:00")
    assert Decimal(rows[-1][7]) == known_history.balance.amount == Decimal("15.00")
    # the balance column re-adds: opening + credits - debits
    running = Decimal(rows[1][7])
    for row in rows[2:]:
        running += Decimal(row[6]) - Decimal(row[5])
        assert Decimal(row[7]) == running


def test_csv_period_has_opening_row_and_filename(admin_client, known_history):
    response = admin_client.get(
        csv_url(known_history, **{"from": "2024-02-01", "to": "2024-03-31"})
    )
    assert (
        f'filename="account-{known_history.pk}-statement-2024-02-01-to-2024-03-31.csv"'
        in response["Content-Disposition"]
    )
    rows = _csv(response)
    assert rows[1] == ["2024-02-01", "", "", "Opening balance", "", "", "", "-75.00", "GBP"]
    assert [r[1] for r in rows[2:]] == ["PAYM-A", "PAYM-B"]
    assert rows[-1][7] == "15.00"


def test_csv_uses_currency_precision_and_streams_in_batches(admin_client, make_account, actor):
    yen = make_account(currency="JPY")
    bulk_history(yen, 4500, actor)  # more than two iter_statement batches of 2,000
    response = admin_client.get(csv_url(yen))
    assert response.streaming
    content = response.streaming_content
    assert iter(content) is content  # a generator, not a list of every row
    rows = _csv(response)
    assert len(rows) == 2 + 4500
    assert rows[2][5:] == ["10", "0", "-10", "JPY"]
    yen.refresh_from_db()
    assert Decimal(rows[-1][7]) == yen.balance.amount
    assert not any("." in r[7] for r in rows[1:])


def test_csv_neutralises_spreadsheet_formulas(admin_client, account, actor):
    services.post(
        account=account,
        postings=[
            Posting(
                kind="PAYM",
                amount=Money("1.00", "GBP"),
                reference="PAYM-X",
                description='=HYPERLINK("http://evil")',
            )
        ],
        actor=actor,
    )
    rows = _csv(admin_client.get(csv_url(account)))
    assert rows[2][3] == '\'=HYPERLINK("http://evil")'


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["admin:ledger_account_payments", "admin:ledger_account_payments_csv"]
)
def test_non_staff_is_sent_to_the_admin_login(client, django_user_model, account, name):
    url = reverse(name, args=[account.pk])
    assert client.get(url).status_code == 302
    member = django_user_model.objects.create_user("member", password="x", is_staff=False)
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_needs_view_permission(client, django_user_model, account):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:ledger_account_payments", args=[account.pk])
    assert client.get(url).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_account"))
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("admin:ledger_account_payments_csv", args=[account.pk])).status_code
        == 200
    )


def test_unknown_account_is_404(admin_client):
    assert (
        admin_client.get(reverse("admin:ledger_account_payments", args=[999999])).status_code == 404
    )
