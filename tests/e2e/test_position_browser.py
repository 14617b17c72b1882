"""The account's whole position, staff and member side by side in real browsers on
PostgreSQL (issue 11): an account with two wallets and holds on two ongoing invoices
(tests/members/positions.py). The staff Position tab and the member home show the same
figures, and both equal the account's ledger balance, its wallet rows and its holds."""

import pytest

from tests.members.conftest import PASSWORD
from tests.members.pages import gbp
from tests.members.positions import build_position
from wallets.models import Hold, Wallet

from .reading import figure, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FIELDS = ("total", "consumed", "held", "available")


def test_staff_position_and_member_home_show_the_same_figures(
    page, second_page, live_server, log_in, django_user_model, screenshots
):
    member = django_user_model.objects.create_user(username="pat", password=PASSWORD)
    built = build_position(members=[member], name="Two Wallets Ltd")
    account = built.account
    base = live_server.url
    stored = {w.name: w for w in Wallet.objects.filter(account=account)}
    holds = {h.invoice_id: h.amount for h in Hold.objects.filter(status="active")}
    expected_wallets = [
        (name, *(gbp(getattr(stored[name], f).amount) for f in FIELDS))
        for name in ("Alpha", "Beta")
    ]
    run_a, run_b = built.ongoing
    assert holds == {run_a.pk: holds[run_a.pk], run_b.pk: holds[run_b.pk]}

    log_in(page, "Billing admin")
    page.goto(f"{base}/admin/ledger/account/{account.pk}/change/")
    page.get_by_role("link", name="Position", exact=True).click()
    staff = {
        label: figure(page, label)
        for label in ("Ledger balance", "Credit free to use", "Owed on open invoices")
    }
    assert staff == {
        "Ledger balance": gbp(account.balance.amount),
        "Credit free to use": gbp("0"),
        "Owed on open invoices": gbp("125"),
    }
    assert figure(page, "Of which overdue") == gbp("85")
    assert figure(page, "Wallets: available") == gbp("180")
    staff_wallets = table(page, "#position-wallets")
    assert [
        (r["Wallet"], r["Total"], r["Consumed"], r["Held"], r["Available"]) for r in staff_wallets
    ] == expected_wallets
    assert gbp(holds[run_a.pk].amount) in staff_wallets[0]["Held for"]
    assert gbp(holds[run_b.pk].amount) in staff_wallets[1]["Held for"]
    owed = table(page, "#position-invoices")
    assert [(r["Invoice"], r["Still owed"]) for r in owed] == [
        (built.late.number, gbp("85")),
        (built.soon.number, gbp("40")),
    ]
    page.screenshot(path=screenshots / "admin-position.png", full_page=True)

    second_page.goto(f"{base}/login/")
    second_page.get_by_label("Username").fill("pat")
    second_page.get_by_label("Password").fill(PASSWORD)
    second_page.get_by_role("button", name="Log in").click()
    second_page.wait_for_url(f"{base}/")
    section = second_page.locator(f"#position-{account.pk}")
    member_figures = dict(
        section.locator("[data-figure]").evaluate_all(
            "els => els.map(e => [e.dataset.figure, e.innerText.split('\\n')[0].trim()])"
        )
    )
    assert member_figures["balance"].split()[0] == staff["Ledger balance"]
    assert member_figures["free-credit"] == staff["Credit free to use"]
    assert member_figures["due"].split()[0] == staff["Owed on open invoices"]
    assert member_figures["overdue"].split()[0] == gbp("85")
    member_wallets = table(second_page, f"#position-{account.pk} .position-wallets")
    assert [
        (r["Wallet"], r["Total"], r["Consumed"], r["Held"], r["Available"]) for r in member_wallets
    ] == expected_wallets
