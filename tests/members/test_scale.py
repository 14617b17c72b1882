"""Long histories: the statement costs the same queries on its first page and deep in
a 100,000-entry history; a PDF period over 10,000 rows is refused with a clear page."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger import services as ledger

from .bulk import balance_after, bulk_entries
from .pages import gbp, table_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_account(member):
    def make(n):
        account = ledger.create_account(
            name="Long History Ltd",
            email="long@members.test",
            currency="GBP",
            actor=ledger.system_actor("tests"),
            members=[member],
        )
        return bulk_entries(account, n)

    return make


def balances(response) -> list[str]:
    return [r[6] for r in table_rows(response.content, "statement") if len(r) == 7]


def test_first_and_deep_pages_of_100k_entries_cost_the_same_queries(member_client, big_account):
    account = big_account(100_000)
    call_command("verify_ledger", account=[account.pk], verbosity=0)
    url = reverse("member-statement", args=[account.pk])
    member_client.get(url)  # warm the session and content types

    with CaptureQueriesContext(connection) as first:
        newest = member_client.get(url)
    with CaptureQueriesContext(connection) as deep:
        old = member_client.get(url, {"before": 20_001})
    with CaptureQueriesContext(connection) as oldest:
        last = member_client.get(url, {"before": 51})

    assert len(first) == len(deep) == len(oldest), (
        [q["sql"] for q in first],
        [q["sql"] for q in deep],
    )
    assert len(first) <= 6
    assert balances(newest) == [gbp(balance_after(s)) for s in range(100_000, 99_950, -1)]
    assert balances(old) == [gbp(balance_after(s)) for s in range(20_000, 19_950, -1)]
    assert balances(last) == [gbp(balance_after(s)) for s in range(50, 0, -1)]
    assert "Opening balance" in last.content.decode()
    for sql in (q["sql"].upper() for q in first.captured_queries + deep.captured_queries):
        assert " OFFSET " not in sql and "COUNT(" not in sql, sql


def test_a_pdf_period_over_10000_rows_points_to_csv(member_client, big_account):
    account = big_account(10_001)
    page = member_client.get(reverse("member-statement", args=[account.pk])).content.decode()
    assert 'id="download-pdf"' not in page
    assert "more than the 10000 a PDF holds" in page
    response = member_client.get(reverse("member-statement-pdf", args=[account.pk]))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "This period is too long for a PDF" in html
    assert "holds 10001 entries; a PDF statement holds at most 10000" in html
    assert f'href="/accounts/{account.pk}/statement/csv/"' in html
    csv = member_client.get(reverse("member-statement-csv", args=[account.pk]))
    assert csv.status_code == 200 and csv.streaming
