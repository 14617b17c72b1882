"""Screenshots of a running demo (`make run`) with Debian's Chromium, to look at the
demo data the way staff and members see it:

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000] [out-dir]

The README's screenshots are not these: the browser tests write them from known figures
(`BILLFOLD_SCREENSHOTS=1 .venv/bin/pytest tests/e2e`, on PostgreSQL for the staff
pages). This script logs in through the real login forms as the demo staff user and the
demo member and saves PNGs at 1366 px (staff and member) and 390 px (member) under
out-dir (default /tmp/billfold-screenshots), never over docs/screenshots. Needs
`apt-get install chromium` and the dev extras (playwright).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/billfold-screenshots")
PASSWORD = "billfold-demo"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def log_in(page, path, username):
    page.goto(f"{BASE}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_load_state()


def shoot(page, name, *, full_page=False):
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / name, full_page=full_page)


def staff(browser):
    page = browser.new_page(viewport=WIDE)
    log_in(page, "/admin/login/", "demo-staff")
    page.goto(f"{BASE}/admin/ledger/account/")
    page.click("text=Acme Studio Ltd")
    account_url = page.url.split("/change/")[0]
    page.goto(f"{account_url}/payments/")
    shoot(page, "admin-payments-tab.png")
    page.get_by_role("link", name="Position", exact=True).click()
    shoot(page, "admin-position.png", full_page=True)
    page.goto(f"{BASE}/admin/payments/payment/?status__exact=receipt_sent")
    page.click("table#result_list tbody tr th a")
    shoot(page, "admin-payment.png")
    page.goto(f"{BASE}/admin/wallets/wallet/")
    page.click("text=Projet Atlas")
    shoot(page, "admin-wallet.png", full_page=True)
    page.close()


def member(browser):
    for viewport, suffix in ((WIDE, ""), (PHONE, "-phone")):
        page = browser.new_page(viewport=viewport)
        log_in(page, "/login/", "demo-member")
        shoot(page, f"member-home{suffix}.png", full_page=True)
        page.get_by_role("link", name="Statement").first.click()
        shoot(page, f"member-statement{suffix}.png")
        page.get_by_role("link", name="Invoices").first.click()
        shoot(page, f"member-invoices{suffix}.png")
        page.close()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        staff(browser)
        member(browser)
        browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
