"""The period-close billing run in a real browser on PostgreSQL (issue 15 item 5): a
billing admin presses *Close billing period* on the Billing runs list and lands on the
run's page, whose counts, amounts and one failure with its reason are those of the
ongoing invoices built through the services (worked out by hand below)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from tests.members.pages import gbp
from wallets import services as wallets

from .reading import messages, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = ledger.system_actor("e2e")
IBAN = "DE89 3704 0044 0532 0130 00"


def _ongoing(name, *amounts, period=None, lines=None):
    account = ledger.create_account(
        name=name, email=f"{name.split()[0].lower()}@example.test", currency="GBP", actor=ACTOR
    )
    end = timezone.localdate() - timedelta(days=1)
    start, end = period or (end - timedelta(days=29), end)
    specs = lines or [LineSpec(f"Usage {i + 1}", "1", a) for i, a in enumerate(amounts)]
    draft = ledger.create_invoice(
        account=account, actor=ACTOR, lines=specs, period_start=start, period_end=end
    )
    return ledger.open_invoice(invoice=draft, actor=ACTOR)


def build_period() -> dict:
    """Four ongoing invoices whose period ended yesterday and one still running:
    Hotel Ltd 150.00 waits for a bank transfer; India Ltd 80.00 of which 50.00 held in its
    wallet (captured; 30.00 waits); Juliet Ltd 45.00 under a direct-debit mandate;
    Kilo Ltd 0.00 refused (nothing to charge); Lima Ltd's period runs to next month."""
    made = {"plain": _ongoing("Hotel Ltd", lines=[LineSpec("Desk days", "12", "12.50")])}
    made["held"] = _ongoing("India Ltd", "80.00")
    wallet = wallets.create_wallet(account=made["held"].account_id, name="Prepaid", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="50.00", actor=ACTOR, grant=True)
    pay.apply_wallet(wallet=wallet, invoice=made["held"], actor=ACTOR)
    made["debit"] = _ongoing("Juliet Ltd", "45.00")
    pay.create_mandate(
        account=made["debit"].account_id,
        reference="MD-JULIET-1",
        signed_on=timezone.localdate(),
        iban=IBAN,
        actor=ACTOR,
    )
    made["bad"] = _ongoing("Kilo Ltd", "0.00")
    today = timezone.localdate()
    made["running"] = _ongoing("Lima Ltd", "10.00", period=(today, today + timedelta(days=29)))
    return made


def test_close_billing_period_from_the_list_then_read_the_run(
    page, live_server, log_in, screenshots
):
    made = build_period()
    base = live_server.url
    log_in(page, "Billing admin")
    page.goto(f"{base}/admin/payments/billingrun/")
    yesterday = timezone.localdate() - timedelta(days=1)
    assert page.get_by_label("Through").input_value() == yesterday.isoformat()
    page.get_by_role("button", name="Close billing period").click()
    page.wait_for_url("**/admin/payments/billingrun/*/change/")
    (started,) = messages(page)
    assert started.endswith("started: 4 invoice(s) to issue.")
    page.reload()  # the worker ran after the start committed

    counts = {
        s: page.locator(f"td.billfold-count-{s}").inner_text()
        for s in ("total", "issued", "failed", "skipped", "pending")
    }
    assert counts == {"total": "4", "issued": "3", "failed": "1", "skipped": "0", "pending": "0"}
    assert page.locator(".billfold-status").first.inner_text() == "Finished"
    amounts = table(page, "table.billfold-run-amounts")
    assert amounts == [
        {
            "currency": "GBP",
            "invoices": "3",
            "total": gbp("275"),  # 150.00 + 80.00 + 45.00
            "holds captured": gbp("50"),
            "credit applied": gbp("0"),
            "left to pay": gbp("225"),  # 150.00 + 30.00 + 45.00 (the direct debit's)
            "direct debits started": "1",
        }
    ]
    failures = table(page, "table.billfold-run-failures")
    (failure,) = failures
    assert failure["account"] == "Kilo Ltd" and f"#{made['bad'].pk}" in failure["reason"]
    assert failure["reason"].endswith(
        "has nothing to charge (total £0.00); add lines or cancel it."
    )
    page.screenshot(path=screenshots / "admin-billing-run.png", full_page=True)

    page.locator("table.billfold-run-failures a").first.click()
    page.wait_for_load_state()
    assert f"/admin/ledger/invoice/{made['bad'].pk}/" in page.url
