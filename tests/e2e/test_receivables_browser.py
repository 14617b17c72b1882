"""The receivables in a real browser on PostgreSQL (issue 15 items 1-2): the finance
overview on the admin home shows the figures of a known history built today through the
services (worked out by hand below), each figure's link lands on a list of that many
rows, at 1366 px and at 390 px; the aged receivables report as of 30 June 2026 over the
known history of tests/receivables/history.py, per account and per group, with its CSV
and PDF downloads."""

import csv
import io
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from tests.members.pages import gbp
from tests.receivables import history
from wallets import services as wallets

from .reading import table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ACTOR = ledger.system_actor("e2e")


def _at(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(10)))


def _issue(account, amount, *, issued_days_ago, due_in):
    draft = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Services", "1", amount)]
    )
    due = timezone.localdate() + timedelta(days=due_in)
    return pay.issue_invoice(invoice=draft, actor=ACTOR, at=_at(issued_days_ago), due_date=due)


def _account(name, currency="GBP", **kwargs):
    email = f"{name.split()[0].lower()}@example.test"
    return ledger.create_account(name=name, email=email, currency=currency, actor=ACTOR, **kwargs)


def build_today(monkeypatch) -> dict:
    """Northwind owes one invoice in each aging bucket today; Southwind paid its invoice
    by card, left £25.00 cash as credit, has a low wallet and £30.00 held for an ongoing
    invoice; Foxtrot's invoice waits for the ERP; Echo's card payment has been processing
    for two days."""
    north = _account("Northwind Ltd")
    _issue(north, "100.00", issued_days_ago=150, due_in=-120)  # over 90: 100.00
    _issue(north, "60.00", issued_days_ago=90, due_in=-75)  # 61-90: 60.00
    _issue(north, "80.00", issued_days_ago=60, due_in=-45)  # 31-60: 80.00
    part = _issue(north, "200.00", issued_days_ago=40, due_in=-10)  # 1-30: 200 - 50 = 150.00
    _issue(north, "120.00", issued_days_ago=5, due_in=10)  # not due: 120.00
    pay.mark_invoice_paid(invoice=part, method="cheque", amount="50.00", actor=ACTOR)
    south = _account("Southwind Ltd")
    paid = _issue(south, "40.00", issued_days_ago=20, due_in=-5)
    pay.mark_invoice_paid(invoice=paid, method="card", actor=ACTOR)  # owes nothing
    pay.record_payment(account=south, amount="25.00", method="cash", actor=ACTOR)  # credit
    low = wallets.create_wallet(account=south, name="Spare", actor=ACTOR)
    wallets.top_up(wallet=low, amount="5.00", actor=ACTOR, grant=True)
    wallets.set_low_balance_alert(wallet=low, threshold="10.00", actor=ACTOR)  # 5.00 < 10.00
    main = wallets.create_wallet(account=south, name="Main", actor=ACTOR)
    wallets.top_up(wallet=main, amount="100.00", actor=ACTOR, grant=True)
    ongoing = ledger.create_invoice(
        account=south, actor=ACTOR, lines=[LineSpec("Usage", "30", "1.00")]
    )
    pay.apply_wallet(
        wallet=main, invoice=ledger.open_invoice(invoice=ongoing, actor=ACTOR), actor=ACTOR
    )
    erp = _account("Foxtrot Ltd", erp_managed=True)
    draft = ledger.create_invoice(account=erp, actor=ACTOR, lines=[LineSpec("ERP", "1", "33.00")])
    pay.issue_invoice(invoice=draft, actor=ACTOR)
    echo = _account("Echo GmbH", currency="EUR")
    card = _issue(echo, "500.00", issued_days_ago=3, due_in=27)
    waiting = Payment.objects.get(invoice=card, status="waiting_for_payment")
    two_days_ago = timezone.now() - timedelta(days=2)
    with monkeypatch.context() as m:
        m.setattr(timezone, "now", lambda: two_days_ago)
        pay.start_card_payment(payment=waiting, card_number="4242424242424242", actor=ACTOR)
    return {"north": north, "south": south, "echo": echo}


# (figure key, amount shown, count shown or None, rows on the list it links to)
EXPECTED_GBP = [
    ("open", gbp("543"), 6, 6),  # Foxtrot's 33.00 is owed (issued) while the ERP approves
    ("overdue", gbp("390"), None, 4),
    ("not-due", gbp("153"), None, 2),
    ("1-30", gbp("150"), None, 1),
    ("31-60", gbp("80"), None, 1),
    ("61-90", gbp("60"), None, 1),
    ("over-90", gbp("100"), None, 1),
    ("received", gbp("115"), 3, 3),
    ("received-card", gbp("40"), 1, 1),
    ("received-cash", gbp("25"), 1, 1),
    ("received-cheque", gbp("50"), 1, 1),
    ("stuck", gbp("0"), 0, 0),
    ("pending-billing", gbp("33"), 1, 1),
    ("low-wallets", gbp("5"), 1, 1),
    ("held", gbp("30"), 1, 1),
]
EXPECTED_EUR_SOME = [
    ("open", "€500.00", 1, 1),
    ("not-due", "€500.00", None, 1),
    ("stuck", "€500.00", 1, 1),
]


def shown_figures(page, currency: str) -> dict[str, tuple[str, int | None, str]]:
    """key -> (amount as shown, count as shown, the link) of the overview's figures."""
    found = page.locator(f"[id^='figure-{currency}-']").evaluate_all(
        """(els) => els.map((el) => {
            const a = el.querySelector('dd a');
            return [el.id, a.innerText.trim(), a.dataset.count ?? null, a.href];
        })"""
    )
    prefix = f"figure-{currency}-"
    return {
        key[len(prefix) :]: (text, None if n is None else int(n), href)
        for key, text, n, href in found
    }


def listed_rows(page, url: str) -> int:
    """Rows of the admin list at ``url`` (followed from the figure's link)."""
    page.goto(url)
    page.locator("#changelist").wait_for()
    return page.locator("#result_list tbody tr").count()


def offscreen_figures(page) -> list[str]:
    """The overview's figures not wholly inside the viewport's width (their text)."""
    return page.locator("#finance-overview dl > div").evaluate_all(
        """(els) => els.filter((el) => {
            const r = el.getBoundingClientRect();
            return r.left < 0 || r.right > window.innerWidth || el.scrollWidth > el.clientWidth;
        }).map((el) => el.innerText)"""
    )


def page_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_the_finance_overview_shows_the_known_figures_and_links_to_what_it_counts(
    page, live_server, log_in, screenshots, monkeypatch
):
    build_today(monkeypatch)
    log_in(page, "Billing admin")
    page.goto(f"{live_server.url}/admin/")
    gbp_figures = shown_figures(page, "GBP")
    assert [(k, gbp_figures[k][0], gbp_figures[k][1]) for k, *_ in EXPECTED_GBP] == [
        (k, amount, count) for k, amount, count, _rows in EXPECTED_GBP
    ]
    eur = shown_figures(page, "EUR")
    assert [(k, eur[k][0], eur[k][1]) for k, *_ in EXPECTED_EUR_SOME] == [
        (k, amount, count) for k, amount, count, _rows in EXPECTED_EUR_SOME
    ]
    page.screenshot(path=screenshots / "admin-overview.png", full_page=True)

    page.set_viewport_size(PHONE)
    page.reload()
    assert page_overflow(page) <= 0 and offscreen_figures(page) == []
    page.locator("#finance-overview").screenshot(path=screenshots / "admin-overview-phone.png")
    page.set_viewport_size({"width": 1366, "height": 900})

    for currency, figures, expected in (
        ("GBP", gbp_figures, EXPECTED_GBP),
        ("EUR", eur, EXPECTED_EUR_SOME),
    ):
        for key, _amount, _count, rows in expected:
            assert listed_rows(page, figures[key][2]) == rows, (currency, key)


def _report(page, base, as_of, by):
    page.goto(f"{base}/admin/receivables/aging/")
    page.get_by_label("As of").fill(as_of)
    page.get_by_label("Per").select_option(label=by)
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()


def _money(figures, currency):
    symbol = {"GBP": "£", "EUR": "€"}[currency]
    return [f"{symbol}{amount:,.2f}" for amount in figures]


COLUMNS = ("Not yet due", "1–30 days", "31–60 days", "61–90 days", "Over 90 days", "Total")


def _rows_by(page, first_column):
    rows = table(page, "#aging-table")
    return {(r[first_column], r["Currency"]): [r[c] for c in COLUMNS] for r in rows}


def test_the_aged_receivables_report_per_account_and_group_with_csv_and_pdf(
    page, live_server, log_in, screenshots
):
    history.build(ACTOR)
    log_in(page, "Billing admin")
    base = live_server.url
    _report(page, base, "2026-06-30", "account")
    currency_of = {"Echo GmbH": "EUR"}
    shown = _rows_by(page, "Account")
    assert shown == {
        (name, currency_of.get(name, "GBP")): _money(figures, currency_of.get(name, "GBP"))
        for name, figures in history.EXPECTED_ACCOUNTS.items()
    }
    totals = page.locator("#aging-table tfoot tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.total, [...r.querySelectorAll('td[data-amount]')]"
        ".map(c => c.innerText.trim())])"
    )
    assert dict(totals) == {c: _money(figures, c) for c, figures in history.EXPECTED_TOTALS.items()}
    page.screenshot(path=screenshots / "admin-aging.png", full_page=True)

    with page.expect_download() as csv_download:
        page.locator("#aging-csv").click()
    download = csv_download.value
    assert download.suggested_filename == "aged-receivables-2026-06-30-account.csv"
    response = page.request.get(base + page.locator("#aging-csv").get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert {r["currency"]: r["total"] for r in rows if r["account"] == "Total"} == {
        "GBP": "785.00",
        "EUR": "542.00",
    }
    with page.expect_download() as pdf_download:
        page.locator("#aging-pdf").click()
    download = pdf_download.value
    assert download.suggested_filename == "aged-receivables-2026-06-30-account.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    response = page.request.get(base + page.locator("#aging-pdf").get_attribute("href"))
    assert (response.status, response.headers["content-type"]) == (200, "application/pdf")

    _report(page, base, "2026-06-30", "account group")
    shown = _rows_by(page, "Account group")
    assert shown == {
        key: _money(figures, key[1]) for key, figures in history.EXPECTED_GROUPS.items()
    }
