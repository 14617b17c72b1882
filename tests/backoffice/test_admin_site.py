"""An admin organised for the work (issue 11): daily work first, records after, settings
last; API keys for billing admins only; account pickers that autocomplete; lists with a
date hierarchy and due/overdue filters; refused (403) and missing (404) pages in the
admin's look, with their status codes."""

import re

import pytest
from django.urls import reverse

from ledger.models import LedgerEntry
from payments import services as pay
from payments.models import Payment

from .conftest import text_of

pytestmark = pytest.mark.django_db


def sections(page) -> list[tuple[str, list[str]]]:
    html = page.content.decode()
    found = []
    for block in html.split('class="module billfold-section')[1:]:
        name = re.search(r'<span class="section">([^<]+)</span>', block).group(1)
        models = re.findall(
            r'<th scope="row" id="[^"]+">\s*<a href="[^"]+"[^>]*>([^<]+)</a>', block
        )
        found.append((name, models))
    return found


def test_index_puts_daily_work_first_records_after_settings_last(admin):
    found = sections(admin.get(reverse("admin:index")))
    names = [name for name, _models in found]
    assert names == ["Daily work", "Records", "Settings"]
    daily, records, settings = (models for _name, models in found)
    assert daily == [
        "Accounts",
        "Account groups",
        "Invoices",
        "Payments",
        "Wallets",
        "Billing runs",
    ]
    for model in (
        "Ledger entries",
        "Payment transitions",
        "Gateway events",
        "Sandbox events",
        "Wallet transactions",
        "Credit memos",
        "Group payments",
    ):
        assert model in records, model
    assert "API keys" in settings and "API keys" not in daily + records
    assert "Reminder levels" in settings and "Reminders" in records


def test_api_keys_are_for_billing_admins_only(billing_admin, clerk, auditor):
    url = reverse("admin:api_apikey_changelist")
    assert billing_admin.get(url).status_code == 200
    for client in (clerk, auditor):
        index = client.get(reverse("admin:index"))
        assert "API keys" not in text_of(index)
        assert client.get(url).status_code == 403


def test_a_forged_post_is_refused_in_the_admin_look(clerk, account, issue, actor):
    invoice = issue(account, "75.00")
    paid = pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    before = (LedgerEntry.objects.count(), Payment.objects.count())
    url = reverse("admin:payments_payment_action", args=[paid.pk, "refund"])
    refused = clerk.post(url, {"amount": "10.00"})
    assert refused.status_code == 403  # was a bare, unstyled 403
    html = refused.content.decode()
    assert 'class="breadcrumbs"' in html and "Billfold" in html and "Not allowed" in html
    assert "You are not allowed to refund." in text_of(refused)
    assert (LedgerEntry.objects.count(), Payment.objects.count()) == before


def test_missing_pages_are_in_the_admin_look(admin, account, issue):
    invoice = issue(account, "10.00")
    for url in (
        reverse("admin:ledger_invoice_action", args=[invoice.pk, "no_such_action"]),
        reverse("admin:ledger_invoice_action", args=[999999, "mark_paid"]),
        reverse("admin:ledger_account_payments", args=[999999]),
        reverse("admin:payments_account_position", args=[999999]),
    ):
        page = admin.get(url)
        assert page.status_code == 404, url
        assert 'class="breadcrumbs"' in page.content.decode() and "Not found" in text_of(page)


def test_account_pickers_autocomplete(admin, account):
    for url in (
        reverse("admin:ledger_invoice_add"),
        reverse("admin:wallets_wallet_add"),
        reverse("admin:ledger_accountgroup_add"),
        reverse("admin:ledger_account_change", args=[account.pk]),
    ):
        html = admin.get(url).content.decode()
        assert "admin-autocomplete" in html, url
    found = admin.get(
        reverse("admin:autocomplete"),
        {"app_label": "ledger", "model_name": "invoice", "field_name": "account", "term": "Mem"},
    )
    assert found.status_code == 200 and account.name in found.content.decode()


def test_lists_have_a_date_hierarchy_and_due_and_overdue_filters(admin, account, issue):
    issue(account, "10.00", due_in=-2)
    for name in ("ledger_invoice", "payments_payment"):
        page = admin.get(reverse(f"admin:{name}_changelist"))
        html = page.content.decode()
        assert '<nav class="toplinks">' in html, name  # the date hierarchy
        assert "overdue" in html and "due=7" in html, name
    overdue = admin.get(reverse("admin:payments_payment_changelist") + "?overdue=yes")
    assert overdue.status_code == 200 and "P-" in text_of(overdue)


@pytest.mark.parametrize(
    "name",
    [
        "ledger_invoice",
        "payments_payment",
        "ledger_account",
        "wallets_wallet",
    ],
)
def test_list_columns_are_few_enough_for_1366px(admin, name, account, issue, make_wallet):
    issue(account, "10.00")
    make_wallet(account)
    page = admin.get(reverse(f"admin:{name}_changelist"))
    header = page.content.decode().split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert header.count('scope="col"') <= 8, name  # checkbox + at most 7 columns
