"""The member's pages at phone width (390 px) and *Pay now* in a real browser on
PostgreSQL (issue 11): every amount of the statement is on screen and equal to the
known history's (worked out by hand in tests/members/history.py), the invoices and
receipts pages fit, and a member pays a due invoice from its row — Pay now, the link's
page, the card, the gateway's webhooks — and reads it back on the statement."""

import pytest
from django.core.management import call_command

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from tests.members.conftest import PASSWORD
from tests.members.history import build_history
from tests.members.pages import gbp

from .reading import table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(
        username="alice", password=PASSWORD, email="alice@members.test", first_name="Alice"
    )


def issued(account, amount):
    actor = ledger.system_actor("e2e")
    invoice = ledger.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Event space", "1", amount)]
    )
    return pay.issue_invoice(invoice=invoice, actor=actor)


def link_id(url: str) -> int:
    """The payment link behind a /pay/<token>/ URL (tokens are signed with a time)."""
    return pay.resolve_link(url.rstrip("/").rsplit("/", 1)[-1]).pk


def log_in_by_form(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def page_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def offscreen_amounts(page, selector: str) -> list[str]:
    """Amount cells of ``selector`` that are not wholly inside the viewport's width or
    are hidden inside a box scrolled sideways (their text, for the failure)."""
    return page.locator(selector).evaluate_all(
        """(cells) => cells.filter((c) => c.innerText.trim()).filter((c) => {
            const r = c.getBoundingClientRect();
            const wrap = c.closest('.table-wrap');
            const scrolls = wrap && wrap.scrollWidth > wrap.clientWidth + 1;
            return r.width === 0 || r.left < 0 || r.right > window.innerWidth || scrolls;
        }).map((c) => c.innerText)"""
    )


def phone_amounts(page) -> list[tuple[str, str, str, str]]:
    """(reference, debit, credit, balance) of each statement card, as shown."""
    found = page.locator("#statement tbody tr:not(.opening)").evaluate_all(
        """(rows) => rows.filter((r) => r.children.length === 7).map((r) => {
            const text = (sel) => (r.querySelector(sel) || {innerText: ''}).innerText.trim();
            return [text('th'), text('td[data-label=Debit]'), text('td[data-label=Credit]'),
                    text('td.balance-after')];
        })"""
    )
    return [tuple(row) for row in found]


def test_statement_invoices_and_receipts_at_390px_show_every_amount(
    page, live_server, e2e_settings, alice, screenshots
):
    history = build_history(members=[alice])
    fresh = issued(history.account, "45.00")
    base = live_server.url
    page.set_viewport_size(PHONE)
    log_in_by_form(page, base, "alice")

    page.goto(f"{base}/accounts/{history.account.pk}/statement/")
    assert page_overflow(page) <= 0
    assert offscreen_amounts(page, "#statement td.num") == []
    expected = [(fresh.reference, gbp("45"), "", gbp("-95"))] + [
        (
            r.shown,
            gbp(r.debit) if r.debit else "",
            gbp(r.credit) if r.credit else "",
            gbp(r.balance),
        )
        for r in reversed(history.rows)
    ][:49]
    assert phone_amounts(page) == expected
    newest = page.locator("#statement tbody tr").first
    assert newest.locator("td.balance-after").is_visible()
    label = newest.locator("td.balance-after").evaluate(
        "el => getComputedStyle(el, '::before').content"
    )
    assert label == '"Balance after"'  # the label shown beside the figure
    page.screenshot(path=screenshots / "member-statement-phone.png", full_page=False)

    page.goto(f"{base}/accounts/{history.account.pk}/invoices/")
    assert page_overflow(page) <= 0
    assert offscreen_amounts(page, "#invoices td.num") == []
    card = page.locator("#invoices tbody tr").filter(has_text=history.invoice_part.number)
    assert card.locator("td.due").inner_text() == gbp("30")
    assert card.locator(".overdue").inner_text() == "Overdue"
    # its receipt asks for a bank transfer: no Pay now; the newer invoice has one
    assert card.get_by_role("button", name="Pay now").count() == 0
    payable = page.locator("#invoices tbody tr").filter(has_text=fresh.number)
    assert payable.locator("td.due").inner_text() == gbp("45")
    assert payable.get_by_role("button", name="Pay now").is_visible()
    page.screenshot(path=screenshots / "member-invoices-phone.png", full_page=False)

    page.goto(f"{base}/accounts/{history.account.pk}/receipts/")
    assert page_overflow(page) <= 0
    assert offscreen_amounts(page, "#receipts td.num") == []
    assert page.locator("#receipts td.num").first.inner_text() == gbp("30")


def test_member_pays_a_due_invoice_with_pay_now(
    page, live_server, e2e_settings, alice, screenshots
):
    history = build_history(members=[alice])
    fresh = issued(history.account, "45.00")
    base = live_server.url
    log_in_by_form(page, base, "alice")

    page.goto(f"{base}/accounts/{history.account.pk}/invoices/")
    rows = {row["Invoice"]: row for row in table(page, "#invoices")}
    assert (rows[fresh.number]["Status"], rows[fresh.number]["Due"]) == ("Due", gbp("45"))
    assert rows[history.invoice_part.number]["Status"] == "Partially paid Overdue"
    page.screenshot(path=screenshots / "member-invoices.png", full_page=False)
    row = page.locator("#invoices tbody tr").filter(has_text=fresh.number)
    row.get_by_role("button", name="Pay now").click()
    page.wait_for_url("**/pay/**")
    first_link = page.url
    assert page.get_by_test_id("amount-due").inner_text() == gbp("45")

    # Back and Pay now again, from the invoice's page: the same link, not a new one.
    page.goto(f"{base}/accounts/{history.account.pk}/invoices/{fresh.pk}/")
    page.locator("#pay-now").click()
    page.wait_for_url("**/pay/**")
    assert link_id(page.url) == link_id(first_link)

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=f"Pay {gbp('45')}").click()
    page.get_by_test_id("processing").wait_for()
    page.goto(f"{base}/accounts/{history.account.pk}/invoices/{fresh.pk}/")
    assert page.locator("#payment-in-progress").is_visible()
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    page.goto(first_link)
    assert "Paid — thank you" in page.content()

    page.goto(f"{base}/accounts/{history.account.pk}/invoices/{fresh.pk}/")
    assert page.locator("#invoice-due").inner_text() == gbp("0")
    assert page.locator("#pay-now").count() == 0
    page.goto(f"{base}/accounts/{history.account.pk}/statement/")
    newest = table(page, "#statement")[0]
    assert (newest["Method"], newest["Credit"], newest["Balance"]) == (
        "Card",
        gbp("45"),
        gbp("-50"),
    )


def position_figures_shown(page, account) -> dict[str, str]:
    section = page.locator(f"#position-{account.pk}")
    names = section.locator("[data-figure]").evaluate_all(
        "els => els.map(e => [e.dataset.figure, e.innerText.replace(/\\s+/g, ' ').trim()])"
    )
    return dict(names)


def test_member_home_shows_the_whole_position_wide_and_at_390px(
    page, live_server, e2e_settings, alice, screenshots
):
    """The home of an account with two wallets and holds on two ongoing invoices:
    figures equal to the ledger balance, the wallet rows and the holds, on a desktop and
    a phone (every amount on screen)."""
    from tests.members.positions import build_position
    from wallets.models import Wallet

    built = build_position(members=[alice], name="Studio Position Ltd")
    account = built.account
    base = live_server.url
    log_in_by_form(page, base, "alice")
    for width, name in ((1366, "member-home.png"), (390, "member-home-phone.png")):
        page.set_viewport_size({"width": width, "height": 900 if width > 390 else 844})
        page.goto(f"{base}/")
        shown = position_figures_shown(page, account)
        assert shown["balance"] == f"{gbp(account.balance.amount)} owed" == f"{gbp('-125')} owed"
        assert shown["free-credit"] == gbp("0")
        assert shown["due"] == f"{gbp('125')} 2 invoices"
        assert shown["overdue"] == f"{gbp('85')} 1 overdue"
        assert shown["wallet-available"].startswith(gbp("180"))
        section = f"#position-{account.pk}"
        wallets = table(page, f"{section} .position-wallets")
        stored = {w.name: w for w in Wallet.objects.filter(account=account)}
        assert [
            (r["Wallet"], r["Total"], r["Consumed"], r["Held"], r["Available"]) for r in wallets
        ] == [
            (
                n,
                *(
                    gbp(getattr(stored[n], f).amount)
                    for f in ("total", "consumed", "held", "available")
                ),
            )
            for n in ("Alpha", "Beta")
        ]
        run_a, run_b = built.ongoing
        assert wallets[0]["Held for"] == f"Ongoing #{run_a.pk} {gbp('120')}"
        assert wallets[1]["Held for"] == f"Ongoing #{run_b.pk} {gbp('50')} of {gbp('80')}"
        owed = table(page, f"{section} .position-owed")
        assert [(r["Invoice"], r["Due"]) for r in owed] == [
            (built.late.number, gbp("85")),
            (built.soon.number, gbp("40")),
        ]
        assert page_overflow(page) <= 0
        assert offscreen_amounts(page, f"{section} td.num, {section} dd.num") == []
        page.screenshot(path=screenshots / name, full_page=True)
