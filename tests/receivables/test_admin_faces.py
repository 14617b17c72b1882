"""The acceptance test of issue 15's aging (through the admin URLs, on SQLite and on
PostgreSQL): at a fixed date over a known history the report page, its CSV and its PDF
give the exact totals, group totals are the sums of their accounts, and today the
finance overview on the admin home gives the report's figures."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.money import format_money
from payments.selectors.aging import aging

from . import faces
from .history import (
    AS_OF,
    BUCKET_ORDER,
    EXPECTED_ACCOUNTS,
    EXPECTED_GROUPS,
    EXPECTED_TOTALS,
    build,
)

D = Decimal


def _money(amount: Decimal, currency: str) -> str:
    from moneyed import Money

    return format_money(Money(amount, currency))


def check_faces(admin, made) -> None:
    page = faces.report(admin)
    assert page.status_code == 200
    assert faces.page_totals(page) == EXPECTED_TOTALS
    assert faces.page_rows(page) == EXPECTED_ACCOUNTS
    html = page.content.decode()
    assert "disputed invoices are owed and counted" in html
    account_url = reverse("admin:ledger_account_change", args=[made["alpha"].pk])
    assert f'href="{account_url}"' in html

    groups = faces.report(admin, by="group")
    assert faces.page_totals(groups) == EXPECTED_TOTALS
    assert faces.page_rows(groups) == {
        (name if name != "No group" else (name, currency)): figures
        for (name, currency), figures in EXPECTED_GROUPS.items()
    }

    rows = faces.csv_content(admin.get(page.context["csv_url"]))  # the page's own links
    per_account = {r["account"]: faces.csv_figures(r) for r in rows if r["account"] != "Total"}
    assert per_account == EXPECTED_ACCOUNTS
    totals = {r["currency"]: faces.csv_figures(r) for r in rows if r["account"] == "Total"}
    assert totals == EXPECTED_TOTALS
    assert {r["as_of"] for r in rows} == {AS_OF.isoformat()}

    pdf = admin.get(page.context["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = faces.pdf_text(pdf.content)
    assert "Aged receivables as of 30 June 2026" in text
    for currency, figures in EXPECTED_TOTALS.items():
        for amount in figures:
            assert _money(amount, currency) in text, (currency, amount)
    for name in EXPECTED_ACCOUNTS:
        assert name in text


def check_overview_equals_the_report_today(admin) -> None:
    cards = faces.figure_cards(faces.index(admin))
    today = aging()
    page_today = faces.page_totals(admin.get(faces.AGING))
    assert set(cards) == set(today.totals) == set(page_today)
    for currency, row in today.totals.items():
        by_key = {card.key: card for card in cards[currency]}
        shown = (
            by_key["not-due"].amount,
            by_key["1-30"].amount,
            by_key["31-60"].amount,
            by_key["61-90"].amount,
            by_key["over-90"].amount,
            by_key["open"].amount,
        )
        assert tuple(m.amount for m in shown) == page_today[currency]
        assert tuple(row.bucket(b).amount for b in BUCKET_ORDER) == page_today[currency]
        assert by_key["overdue"].amount == row.overdue
        assert by_key["open"].count == row.invoices
    # Today's CSV and PDF (the report's defaults) give the overview's totals too.
    rows = faces.csv_content(admin.get(reverse("admin:receivables_aging_csv")))
    totals = {r["currency"]: faces.csv_figures(r) for r in rows if r["account"] == "Total"}
    assert totals == page_today
    text = faces.pdf_text(admin.get(reverse("admin:receivables_aging_pdf")).content)
    for currency, figures in page_today.items():
        for amount in figures:
            assert _money(amount, currency) in text, (currency, amount)


@pytest.mark.django_db
def test_faces_agree_at_a_fixed_date(admin, actor):
    made = build(actor)
    check_faces(admin, made)
    check_overview_equals_the_report_today(admin)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_faces_agree_at_a_fixed_date_on_postgresql(admin, actor):
    made = build(actor)
    check_faces(admin, made)
    check_overview_equals_the_report_today(admin)


@pytest.mark.django_db
def test_a_bad_date_is_refused_with_the_field_named(admin):
    page = admin.get(faces.AGING, {"as_of": "2026-02-30"})
    assert page.status_code == 400 and 'id="error-as_of"' in page.content.decode()
    assert admin.get(reverse("admin:receivables_aging_csv"), {"as_of": "x"}).status_code == 400
    assert admin.get(faces.AGING, {"by": "planet"}).status_code == 400


@pytest.mark.django_db
def test_the_report_is_linked_from_the_overview_and_the_invoices_list(admin, actor):
    build(actor)
    assert f'href="{faces.AGING}"' in faces.index(admin).content.decode()
    invoices = admin.get(reverse("admin:ledger_invoice_changelist")).content.decode()
    assert faces.AGING in invoices


@pytest.mark.django_db
def test_the_report_needs_the_invoice_view_permission(admin, actor, django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user(username="nobody", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    refused = client.get(faces.AGING)
    assert refused.status_code == 403 and 'class="breadcrumbs"' in refused.content.decode()
    assert client.get(reverse("admin:receivables_aging_pdf")).status_code == 403
