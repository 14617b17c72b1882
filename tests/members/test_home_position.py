"""The member home shows each account's whole position (issue 11): ledger balance,
credit free to use, due and overdue, each wallet's total / consumed / held / available
with the invoices holding it — equal to the ledger balance, the wallet rows and the
holds, in a number of queries that does not grow with the invoices and holds shown."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger import services as ledger
from ledger.models import Account
from ledger.money import format_money
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets
from wallets.models import Hold, Wallet

from .pages import gbp, position_figures, table_rows
from .positions import build_position

pytestmark = pytest.mark.django_db

ACTOR = ledger.system_actor("tests")


def ongoing(account, quantity):
    invoice = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Meter units", quantity, "1.00")]
    )
    return ledger.open_invoice(invoice=invoice, actor=ACTOR)


def issued(account, amount, due_in_days):
    invoice = ledger.create_invoice(
        account=account,
        actor=ACTOR,
        lines=[LineSpec("Desk", "1", amount)],
        due_date=timezone.localdate() + timedelta(days=due_in_days),
    )
    return pay.issue_invoice(invoice=invoice, actor=ACTOR)


@pytest.fixture
def busy_account(member):
    """tests/members/positions.py: two wallets, holds on two ongoing invoices."""
    built = build_position(members=[member])
    return built.account, built.late, built.soon, built.ongoing


def test_home_position_equals_the_ledger_wallets_and_holds(member_client, busy_account):
    account, late, soon, (run_a, run_b) = busy_account
    html = member_client.get("/").content.decode()
    shown = position_figures(html, account.pk)
    assert shown["balance"] == f"{format_money(account.balance)} owed" == f"{gbp('-125')} owed"
    assert shown["free-credit"] == gbp("0.00")
    assert shown["due"] == f"{gbp('125.00')} 2 invoices"
    assert shown["overdue"] == f"{gbp('85.00')} 1 overdue"
    assert shown["wallet-available"].startswith(gbp("180.00") + " held for running invoices:")

    section = html.split(f'id="position-{account.pk}"', 1)[1]
    rows = _rows(section, "position-owed")
    assert [(r[0], r[3]) for r in rows] == [(late.number, gbp("85")), (soon.number, gbp("40"))]
    assert "Overdue 5 days" in rows[0][2] and "Overdue" not in rows[1][2]

    wallet_rows = _rows(section, "position-wallets")
    stored = {w.name: w for w in Wallet.objects.filter(account=account)}
    holds = {h.invoice_id: h for h in Hold.objects.filter(invoice__in=[run_a, run_b])}
    assert [r[:5] for r in wallet_rows] == [
        [name, *(format_money(getattr(stored[name], f)) for f in FIELDS)]
        for name in ("Alpha", "Beta")
    ]
    assert wallet_rows[0][5] == f"Ongoing #{run_a.pk} {format_money(holds[run_a.pk].amount)}"
    assert wallet_rows[1][5] == f"Ongoing #{run_b.pk} {gbp('50')} of {gbp('80')}"
    assert "Wallet money pays an invoice once it is applied to it" in section
    total_available = sum(w.available.amount for w in stored.values())
    assert shown["wallet-available"].startswith(gbp(total_available) + " ")
    assert account.balance.amount == Decimal("-125.00")


FIELDS = ("total", "consumed", "held", "available")


def _rows(html: str, css_class: str) -> list[list[str]]:
    """Body rows of the first table with ``css_class`` (the positions' tables have
    classes, not ids: one set per account)."""
    marker = f'class="data cards {css_class}"'
    table = html.split(marker, 1)[1].split("</table>", 1)[0]
    return table_rows(f'<table id="t">{table}</table>', "t")


def test_home_queries_do_not_grow_with_invoices_wallets_and_holds(
    member_client, busy_account, django_assert_max_num_queries
):
    account = busy_account[0]
    with django_assert_max_num_queries(30) as few:
        member_client.get("/")
    for _ in range(5):
        issued(account, "10.00", 3)
        wallet = wallets.create_wallet(account=account, name=f"W{_}", actor=ACTOR)
        wallets.top_up(wallet=wallet, amount="5.00", actor=ACTOR, grant=True)
        pay.apply_wallet(wallet=wallet, invoice=ongoing(account, "3"), actor=ACTOR)
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get("/")


def test_many_accounts_list_the_rest_plainly(member_client, member):
    for i in range(12):
        ledger.create_account(
            name=f"Acct {i:02d}", email="a@x.test", currency="EUR", actor=ACTOR, members=[member]
        )
    html = member_client.get("/").content.decode()
    assert html.count('class="position"') == 10
    rows = table_rows(html, "accounts")
    assert [r[0] for r in rows] == ["Acct 10", "Acct 11"]
    assert Account.objects.count() == 12
