"""The finance overview on the admin home (issue 15 item 1): every figure links to the
list it counts (the list's rows and sum are the figure), staff see only the figures
they may view, and the overview and the report cost the same number of queries for 3
accounts as for 30."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.selectors.overview import finance_overview

from . import faces
from .history import build

D = Decimal


def _check_links(admin, expected_keys) -> None:
    cards = faces.figure_cards(faces.index(admin))
    seen = set()
    for currency, currency_cards in cards.items():
        for card in currency_cards:
            rows, total, model = faces.listed(admin, card.url)
            assert total == card.amount.amount, (currency, card.key, card.url)
            if card.count is not None:
                assert rows == card.count, (currency, card.key, card.url)
            seen.add((currency, card.key))
    assert expected_keys <= seen


EXPECTED = {
    ("GBP", "open"),
    ("GBP", "overdue"),
    ("GBP", "over-90"),
    ("GBP", "received"),
    ("GBP", "received-cash"),
    ("GBP", "received-bank_transfer"),
    ("GBP", "pending-billing"),
    ("GBP", "low-wallets"),
    ("GBP", "held"),
    ("EUR", "stuck"),
    ("EUR", "not-due"),
}


def _check_figures(made) -> None:
    overview = finance_overview()
    gbp, eur = overview.of("GBP"), overview.of("EUR")
    assert {m: f.amount.amount for m, f in gbp.received.items()} == {
        "cash": D("12.34"),
        "bank_transfer": D("5.00"),  # gross: the 1.00 refunded is not netted
    }
    assert (eur.stuck.count, eur.stuck.amount.amount) == (1, D("500.00"))  # not the fresh one
    assert (gbp.pending_billing.count, gbp.pending_billing.amount.amount) == (1, D("33.00"))
    assert (gbp.low_wallets.count, gbp.low_wallets.amount.amount) == (1, D("0.00"))
    assert (gbp.held.count, gbp.held.amount.amount) == (1, D("30.00"))


@pytest.mark.django_db
def test_each_figure_links_to_the_list_it_counts(admin, actor, monkeypatch):
    made = build(actor)
    faces.add_overview_rows(actor, made, monkeypatch)
    _check_figures(made)
    _check_links(admin, EXPECTED)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_each_figure_links_to_the_list_it_counts_on_postgresql(admin, actor, monkeypatch):
    made = build(actor)
    faces.add_overview_rows(actor, made, monkeypatch)
    _check_figures(made)
    _check_links(admin, EXPECTED)


def _staff(django_user_model, name, *perms) -> Client:
    user = django_user_model.objects.create_user(username=name, password="x", is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_staff_see_only_the_figures_they_may_view(actor, monkeypatch, django_user_model, auditor):
    made = build(actor)
    faces.add_overview_rows(actor, made, monkeypatch)
    keys = {
        name: {
            card.key for cards in faces.figure_cards(faces.index(client)).values() for card in cards
        }
        for name, client in (
            ("invoices", _staff(django_user_model, "inv", "ledger.view_invoice")),
            ("payments", _staff(django_user_model, "pay", "payments.view_payment")),
            ("wallets", _staff(django_user_model, "wal", "wallets.view_wallet")),
            ("auditor", auditor),
        )
    }
    assert "overdue" in keys["invoices"] and "received" not in keys["invoices"]
    assert "held" not in keys["invoices"]
    assert "received" in keys["payments"] and "overdue" not in keys["payments"]
    assert keys["wallets"] == {"low-wallets", "held"}
    assert {"overdue", "received", "held"} <= keys["auditor"]
    nobody = _staff(django_user_model, "nobody")
    page = faces.index(nobody)
    assert page.status_code == 200 and page.context["finance_overview"] is None
    assert 'id="finance-overview"' not in page.content.decode()


def _grow(make_account, make_invoice, n) -> None:
    for _ in range(n):
        account = make_account()
        make_invoice(account, "10.00", issue=True)
        make_invoice(account, "20.00", issue=True)


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_overview_and_the_report_cost_the_same_for_3_or_30_accounts(
    admin, make_account, make_invoice
):
    counts = []
    for n in (3, 27):
        _grow(make_account, make_invoice, n)
        counts.append(
            (
                _queries(admin, reverse("admin:index")),
                _queries(admin, faces.AGING),
                _queries(admin, faces.AGING, by="group"),
                _queries(admin, reverse("admin:receivables_aging_csv")),
            )
        )
    assert counts[0] == counts[1], counts
    with CaptureQueriesContext(connection) as queries:
        finance_overview()
    assert len(queries) == 6
