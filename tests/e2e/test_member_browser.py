"""A member in a real browser (issue 6): logs in through the form, reads the statement
of a known history, pages back, filters a month, downloads its CSV and PDF (the PDF
holds the page's rows and closing balance), opens an invoice and a wallet. Saves the
screenshots used by the README under docs/screenshots/."""

import csv
from datetime import date
from decimal import Decimal

import pytest

from tests.members.conftest import PASSWORD
from tests.members.history import build_history
from tests.members.pages import gbp, pdf_text, squash

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(
        username="alice", password=PASSWORD, email="alice@members.test", first_name="Alice"
    )


def statement_rows(page) -> list[tuple[str, str, str, str]]:
    """(reference, debit, credit, balance) of the entry rows shown, top to bottom."""
    rows = page.locator("#statement tbody tr:not(.opening)")
    out = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("th, td").all_inner_texts()
        if len(cells) == 7:
            out.append((cells[1].strip(), cells[4].strip(), cells[5].strip(), cells[6].strip()))
    return out


def expected(rows):
    return [
        (
            r.shown,
            gbp(r.debit) if r.debit else "",
            gbp(r.credit) if r.credit else "",
            gbp(r.balance),
        )
        for r in reversed(rows)
    ]


def test_member_reads_statement_pages_filters_and_downloads(
    page, live_server, e2e_settings, alice, screenshots
):
    history = build_history(members=[alice])
    base = live_server.url

    # Log in through the form; the home page lists the account and its balance.
    page.goto(f"{base}/accounts/{history.account.pk}/statement/")
    assert "/login/?next=" in page.url
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/accounts/{history.account.pk}/statement/")
    page.goto(f"{base}/")
    home = page.locator(f"#position-{history.account.pk}")
    assert "Known History Ltd" in home.inner_text() and "owed" in home.inner_text()
    page.get_by_role("link", name="Known History Ltd").click()

    # The newest page: the 50 newest entries with their running balances.
    page.wait_for_selector("#statement")
    assert page.locator(".balance .amount").inner_text() == gbp("-50.00")
    assert statement_rows(page) == expected(history.rows)[:50]
    page.screenshot(path=screenshots / "member-statement.png", full_page=False)

    # Page back: the rest, ending with the opening balance.
    page.get_by_role("link", name="Older →").first.click()
    page.wait_for_url("**before=**")
    assert statement_rows(page) == expected(history.rows)[50:]
    assert page.locator("#statement tr.opening td.num").inner_text() == gbp("0")

    # Filter February.
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**from=2026-02-01**")
    feb = history.in_period(date(2026, 2, 1), date(2026, 2, 28))
    shown = statement_rows(page)
    assert shown == expected(feb)
    assert page.locator("#statement tr.opening td.num").inner_text() == gbp("-20.00")
    closing = page.locator("#closing-balance").inner_text()
    assert closing == gbp("-20.00")

    # CSV of the month: same rows and balances.
    with page.expect_download() as info:
        page.locator("#download-csv").click()
    download = info.value
    assert download.suggested_filename.endswith("2026-02-01-to-2026-02-28.csv")
    with open(download.path(), newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][3] == "Opening balance" and Decimal(rows[1][7]) == Decimal("-20.00")
    # The CSV's references read as the pages show them (PAYM-INV-…).
    assert [(r[1], Decimal(r[7])) for r in rows[2:]] == [(r.shown, r.balance) for r in feb]

    # PDF of the month: parses, holds the page's rows and closing balance.
    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    download = info.value
    assert download.suggested_filename.endswith("2026-02-01-to-2026-02-28.pdf")
    with open(download.path(), "rb") as f:
        text = pdf_text(f.read())
    flat = squash(text)
    for reference, debit, credit, balance in shown:
        assert squash(reference) in flat, reference
        assert squash(debit + credit + balance) in flat, (reference, balance)
    assert squash(f"Closing balance{closing}") in flat
    assert "Page 1 of 1" in text


def test_invoice_and_wallet_pages(page, live_server, e2e_settings, alice, screenshots):
    history = build_history(members=[alice])
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/accounts/{history.account.pk}/invoices/")
    page.get_by_role("link", name=history.invoice_part.number).click()
    page.wait_for_selector("#invoice-lines")
    assert page.locator("#invoice-due").inner_text() == gbp("30.00")
    prepaid = page.locator("#invoice-lines tbody tr").first.locator("td").last.inner_text()
    assert prepaid == gbp("30.00")
    assert "Projects" in page.locator("#invoice-memos").inner_text()
    page.screenshot(path=screenshots / "member-invoice.png", full_page=True)
    with page.expect_download() as info:
        page.locator("#download-invoice-pdf").click()
    with open(info.value.path(), "rb") as f:
        assert f"Invoice{history.invoice_part.number}" in squash(pdf_text(f.read()))

    page.get_by_role("link", name="Wallets").first.click()
    page.get_by_role("link", name="Projects").click()
    page.wait_for_selector("#wallet-transactions")
    assert page.locator("#wallet-available").inner_text() == gbp("15.00")
    assert page.locator("#wallet-transactions tbody tr").count() == 3
    page.screenshot(path=screenshots / "member-wallet.png", full_page=True)

    # Receipts: the sent receipt downloads as a PDF.
    page.get_by_role("link", name="Receipts").first.click()
    with page.expect_download() as info:
        page.locator("#receipts tbody tr").first.get_by_role("link").last.click()
    with open(info.value.path(), "rb") as f:
        assert history.receipt.receipt_number in pdf_text(f.read())


def test_statement_fits_a_phone_screen(page, live_server, e2e_settings, alice):
    history = build_history(members=[alice])
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/{history.account.pk}/statement/")
    # The page itself never scrolls sideways: wide tables scroll inside their wrapper.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    amount = page.locator("#statement tbody tr").first.locator("td.num").last
    assert amount.evaluate("el => getComputedStyle(el).textAlign") == "right"
