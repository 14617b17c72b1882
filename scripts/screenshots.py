"""Take the README screenshots from a running demo (`make run`) with Debian's Chromium.

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]

Logs in as the demo staff user through the real login form and saves PNGs under
docs/screenshots/. Needs `apt-get install chromium` and the dev extras (playwright).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def login(page, username, password="billfold-demo"):
    page.goto(f"{BASE}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        login(page, "demo-staff")
        page.goto(f"{BASE}/admin/ledger/account/")
        page.click("text=Acme Studio Ltd")
        account_url = page.url.split("/change/")[0]
        page.goto(f"{account_url}/payments/")
        page.screenshot(path=OUT / "admin-payments-tab.png", full_page=False)
        page.goto(f"{BASE}/admin/payments/payment/?status__exact=receipt_sent")
        page.click("table#result_list tbody tr th a")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / "admin-payment.png", full_page=False)
        page.goto(f"{BASE}/admin/wallets/wallet/")
        page.click("text=Projet Atlas")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / "admin-wallet.png", full_page=True)
        browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
