"""The account's whole position on one staff page (issue 11, item 4): ledger balance,
credit free to use, owed and overdue, each wallet's total / consumed / held / available
with the invoices holding it — equal to the ledger, the wallet rows and the holds —
and the selector the member home shares (``payments.selectors.account_position``)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import Account, LedgerEntry
from ledger.money import format_money
from payments import services as pay
from payments.selectors import account_position
from wallets.models import Hold, Wallet

from .conftest import section

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def busy(account, actor, issue, ongoing, make_wallet):
    """Two wallets, holds on two ongoing invoices (one held by both wallets), an overdue
    invoice, a due one, some credit received."""
    pay.record_payment(account=account, amount="15.00", method="cash", actor=actor)
    late = issue(account, "100.00", due_in=-5)  # 15 of credit applied at issue: 85 owed
    soon = issue(account, "40.00", due_in=10)
    first, second = make_wallet(account, "Main", "120.00"), make_wallet(account, "Spare", "30.00")
    big, small = ongoing(account, "130"), ongoing(account, "15")
    pay.apply_wallet(wallet=first, invoice=big, actor=actor)  # holds 120 (all it has)
    pay.apply_wallet(wallet=second, invoice=big, actor=actor)  # the other 10
    pay.apply_wallet(wallet=second, invoice=small, actor=actor)  # 15 of the 20 left
    return {"late": late, "soon": soon, "wallets": (first, second), "ongoing": (big, small)}


def test_selector_figures_equal_the_ledger_and_the_wallet_rows(account, busy):
    account = Account.objects.get(pk=account.pk)
    position = account_position(account)
    entries = LedgerEntry.objects.filter(account=account)
    ledger_balance = sum(e.credit.amount - e.debit.amount for e in entries)
    assert position.balance.amount == account.balance.amount == ledger_balance == D("-125.00")
    assert position.owed.amount == D("125.00")  # 85 + 40
    assert position.overdue.amount == D("85.00")
    assert position.free_credit.amount == D("0.00")
    assert [(row.invoice.pk, row.overdue) for row in position.invoices] == [
        (busy["late"].pk, True),
        (busy["soon"].pk, False),
    ]
    for row in position.wallets:
        stored = Wallet.objects.get(pk=row.wallet.pk)
        assert (row.total, row.consumed, row.held, row.available) == (
            stored.total,
            stored.consumed,
            stored.held,
            stored.available,
        )
        holds = Hold.objects.filter(wallet=stored, status="active").order_by("id")
        assert [(h.pk, h.invoice_id, h.amount) for h in row.holds] == [
            (h.pk, h.invoice_id, h.amount) for h in holds
        ]
        assert sum(h.amount.amount for h in row.holds) == stored.held.amount
    main, spare = position.wallets
    assert (main.held.amount, main.available.amount) == (D("120.00"), 0)
    assert (spare.held.amount, spare.available.amount) == (D("25.00"), D("5.00"))


def _cell_values(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|\s+", " ", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    ]


def test_the_position_page_shows_the_same_figures(admin, account, busy):
    url = reverse("admin:payments_account_position", args=[account.pk])
    page = admin.get(url)
    assert page.status_code == 200
    account = Account.objects.get(pk=account.pk)
    figures = section(page, "position-figures")
    for label, value in [
        ("Ledger balance", account.balance),
        ("Owed on open invoices", D("125.00")),
        ("Of which overdue", D("85.00")),
    ]:
        money = value if not isinstance(value, Decimal) else type(account.balance)(value, "GBP")
        assert re.search(rf"{label}</dt><dd>{re.escape(format_money(money))}</dd>", figures), label
    wallets_html = section(page, "position-wallets")
    for wallet in Wallet.objects.filter(account=account):
        row = wallets_html.split(f'data-wallet="{wallet.pk}"', 1)[1].split("</tr>", 1)[0]
        cells = _cell_values(row)
        assert cells[1:5] == [
            format_money(wallet.total),
            format_money(wallet.consumed),
            format_money(wallet.held),
            format_money(wallet.available),
        ]
        for hold in Hold.objects.filter(wallet=wallet, status="active"):
            assert f'data-hold="{hold.pk}">{format_money(hold.amount)}<' in row
            assert str(hold.invoice) in row
    invoices_html = section(page, "position-invoices")
    assert "overdue 5 d" in invoices_html
    assert f"{busy['late']}" in invoices_html and f"{busy['soon']}" in invoices_html


def test_the_account_tabs_lead_to_the_position(admin, account):
    page = admin.get(reverse("admin:ledger_account_change", args=[account.pk]))
    assert reverse("admin:payments_account_position", args=[account.pk]) in page.content.decode()
    tab = admin.get(reverse("admin:ledger_account_payments", args=[account.pk]))
    assert reverse("admin:payments_account_position", args=[account.pk]) in tab.content.decode()


def test_position_needs_the_view_permission(client, django_user_model, account):
    staff = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(staff)
    page = client.get(reverse("admin:payments_account_position", args=[account.pk]))
    assert page.status_code == 403
    assert b"Not allowed" in page.content and b"breadcrumbs" in page.content
