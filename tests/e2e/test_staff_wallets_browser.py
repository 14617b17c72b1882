"""A *Billing admin* in a real browser on PostgreSQL (issue 11): the wallet workflows of
the Togai and Conga documents — a top-up credited when its payment completes, money
applied to a due invoice (drawdown + prepayment credit memo, CRMO on the payments
tab), the cancellations that are refused once wallet money is on an invoice, a transfer
to account credit, and a hold that follows an ongoing invoice edited in the admin.
Every figure is read off the pages."""

import pytest

from ledger import services as ledger
from ledger.models import Invoice
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets

from .reading import action, action_labels, choose, figure, messages, submit, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADMIN = "Billing admin"
ACTOR = ledger.system_actor("e2e")


@pytest.fixture
def account():
    return ledger.create_account(
        name="Wallet Works Ltd", email="wallet@works.test", currency="GBP", actor=ACTOR
    )


def issued(account, amount):
    invoice = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Project hours", "1", amount)]
    )
    return pay.issue_invoice(invoice=invoice, actor=ACTOR)


def wallet_figures(page) -> tuple[str, str, str, str]:
    return tuple(figure(page, name) for name in ("Total", "Consumed", "Held", "Available"))


def open_wallet(page, base, wallet):
    page.goto(f"{base}/admin/wallets/wallet/{wallet.pk}/change/")


def test_top_up_apply_refused_cancellations_and_transfer(page, live_server, log_in, account):
    base = live_server.url
    wallet = wallets.create_wallet(account=account, name="Prepaid hours", actor=ACTOR)
    invoice = issued(account, "180.00")
    log_in(page, ADMIN)

    # Top up: a top-up payment waits; the wallet is credited when it is paid.
    open_wallet(page, base, wallet)
    assert wallet_figures(page) == ("£0.00", "£0.00", "£0.00", "£0.00")
    action(page, "Top up")
    page.get_by_label("Amount").fill("500.00")
    submit(page, "Top up")
    assert any("Top-up requested" in m for m in messages(page)), messages(page)
    assert wallet_figures(page)[0] == "£0.00"  # nothing yet: the money has not arrived
    page.goto(f"{base}/admin/payments/payment/?type__exact=top_up")
    page.locator("#result_list tbody tr th a").first.click()
    assert figure(page, "Status") == "Waiting for payment"
    action(page, "Mark as paid")
    page.get_by_label("Method").select_option(label="Bank transfer")
    submit(page, "Mark as paid")
    assert figure(page, "Status") == "Completed"
    open_wallet(page, base, wallet)
    assert wallet_figures(page) == ("£500.00", "£0.00", "£0.00", "£500.00")

    # Apply to the due invoice: drawdown + credit memo; the invoice owes nothing.
    action(page, "Apply to invoice")
    choose(page, "Invoice", invoice.number)
    submit(page, "Apply to invoice")
    assert any("applied" in m for m in messages(page)), messages(page)
    assert wallet_figures(page) == ("£500.00", "£180.00", "£0.00", "£320.00")
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    assert figure(page, "Prepaid by credit memos") == "£180.00"
    assert figure(page, "Due") == "£0.00"
    assert figure(page, "Status") == "Paid"
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    newest = table(page, "#statement")[0]
    assert (newest["Kind"], newest["Credit"], newest["Balance"]) == ("CRMO", "£180.00", "£0.00")

    # Refused: the invoice cannot be cancelled once wallet money is on it; the credit
    # memo offers no cancellation at all.
    page.goto(f"{base}/admin/ledger/invoice/")
    page.locator(f'input[name="_selected_action"][value="{invoice.pk}"]').check()
    page.locator('select[name="action"]').select_option("cancel_selected")
    page.locator(".actions button[type=submit]").first.click()
    page.get_by_label("Reason").fill("Try to cancel")
    submit(page, "Cancel 1 invoice")
    refused = [m for m in messages(page) if "cannot" in m.lower() or "refund" in m.lower()]
    assert refused, messages(page)
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    assert figure(page, "Status") == "Paid"
    assert "Cancel invoice" not in action_labels(page)
    page.goto(f"{base}/admin/wallets/creditmemo/")
    page.locator("#result_list tbody tr th a").first.click()
    assert not [label for label in action_labels(page) if "cancel" in label.lower()]
    assert page.locator('input[type=submit][value="Delete"], a.deletelink').count() == 0

    # Transfer to account credit: CRED + on the payments tab, the wallet gives it up.
    open_wallet(page, base, wallet)
    action(page, "Transfer to account credit")
    page.get_by_label("Amount").fill("120.00")
    submit(page, "Transfer to account credit")
    assert wallet_figures(page) == ("£500.00", "£300.00", "£0.00", "£200.00")
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    newest = table(page, "#statement")[0]
    assert (newest["Kind"], newest["Credit"], newest["Balance"]) == ("CRED", "£120.00", "£120.00")
    assert page.locator(".billfold-balance").inner_text().strip() == "£120.00"


def set_line(page, base, invoice, quantity):
    """Edit the ongoing invoice's first line in the admin and save."""
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    page.locator('input[name="lines-0-quantity"]').fill(quantity)
    page.locator('input[name="_continue"], input[name="_save"]').first.click()
    page.wait_for_load_state()
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert not errors, errors


def test_a_hold_follows_an_ongoing_invoice_edited_in_the_admin(
    page, live_server, log_in, account, screenshots
):
    """Togai: netting a wallet off against an ongoing invoice holds its value; the hold
    updates as the invoice changes. Issue 11: 315 -> 365 -> 335, and beyond what the
    wallet has."""
    base = live_server.url
    wallet = wallets.create_wallet(account=account, name="Usage", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="400.00", actor=ACTOR, grant=True)
    log_in(page, ADMIN)

    # The ongoing invoice is made in the admin: from the account, New invoice.
    page.goto(f"{base}/admin/ledger/account/{account.pk}/change/")
    page.get_by_role("link", name="New invoice").first.click()
    page.locator("#id_description").fill("Metered usage, December")
    page.get_by_label("Open as ongoing").check()
    page.locator('input[name="lines-0-description"]').fill("Meter units")
    page.locator('input[name="lines-0-quantity"]').fill("315")
    page.locator('input[name="lines-0-unit_price"]').fill("1.00")
    page.locator('input[name="_continue"]').click()
    page.wait_for_load_state()
    assert not page.locator(".errornote, .errorlist").all_inner_texts()
    ongoing = Invoice.objects.get(account=account)
    assert figure(page, "Status") == "Ongoing"

    open_wallet(page, base, wallet)
    action(page, "Apply to invoice")
    choose(page, "Invoice", f"#{ongoing.pk}")
    submit(page, "Apply to invoice")
    assert wallet_figures(page) == ("£400.00", "£0.00", "£315.00", "£85.00")

    for quantity, held, available in (
        ("365", "£365.00", "£35.00"),
        ("335", "£335.00", "£65.00"),
        ("450", "£400.00", "£0.00"),  # beyond the wallet: it holds what it has
        ("100", "£100.00", "£300.00"),
    ):
        set_line(page, base, ongoing, quantity)
        open_wallet(page, base, wallet)
        assert wallet_figures(page) == ("£400.00", "£0.00", held, available), quantity
        holds = table(page, "#hold_set-group table, .inline-group table")
        assert any(held in " ".join(row.values()) for row in holds), holds
        if quantity == "365":
            page.screenshot(path=screenshots / "admin-wallet.png", full_page=True)
