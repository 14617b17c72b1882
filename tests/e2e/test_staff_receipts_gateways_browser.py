"""A *Billing admin* in a real browser on PostgreSQL (issue 11): the manual receipt
(create → send → mark as paid: the Nexudus/"Processing a payment that requires manual
receipt creation" flow), a forced direct debit (ProAbono), and a payment link the staff
make and a member pays by card — the sandbox gateway answering with signed webhooks.
The member's side is a second browser context: the receipts page, the link page."""

import re

import pytest
from django.core.management import call_command

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from tests.members.conftest import PASSWORD

from .reading import action, figure, messages, submit, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADMIN = "Billing admin"
ACTOR = ledger.system_actor("e2e")


def issued(account, amount):
    invoice = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Hot desk", "1", amount)]
    )
    return pay.issue_invoice(invoice=invoice, actor=ACTOR)


def deliver_gateway_events():
    call_command("deliver_sandbox_events", "--all", verbosity=0)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user(
        username="mia", password=PASSWORD, email="mia@members.test", first_name="Mia"
    )


@pytest.fixture
def account(member):
    return ledger.create_account(
        name="Receipt Studio Ltd",
        email="accounts@receipt-studio.test",
        currency="GBP",
        actor=ACTOR,
        members=[member],
    )


def test_receipt_create_send_then_paid(
    page, second_page, live_server, log_in, account, member, mailoutbox, screenshots
):
    base = live_server.url
    invoice = issued(account, "240.00")
    waiting = Payment.objects.get(invoice=invoice, status="waiting_for_payment")
    log_in(page, ADMIN)
    log_in(second_page, member)

    page.goto(f"{base}/admin/payments/payment/{waiting.pk}/change/")
    assert figure(page, "Status") == "Waiting for payment"
    action(page, "Create receipt")
    page.get_by_label("Method").select_option(label="Bank transfer")
    page.get_by_label("Note").fill("Please quote the receipt number")
    submit(page, "Create receipt")
    assert figure(page, "Status") == "Receipt creating"
    number = figure(page, "Receipt number")
    assert any(number in m for m in messages(page)), messages(page)

    action(page, "Send receipt")
    submit(page, "Send receipt")
    assert any(
        f"Receipt {number} sent to accounts@receipt-studio.test" in m for m in messages(page)
    )
    assert figure(page, "Status") == "Receipt sent"
    page.screenshot(path=screenshots / "admin-payment.png", full_page=False)
    assert [m.to for m in mailoutbox] == [["accounts@receipt-studio.test"]]
    assert mailoutbox[0].attachments[0][0] == f"{number}.pdf"

    # The member sees it, asking for payment.
    second_page.goto(f"{base}/accounts/{account.pk}/receipts/")
    (row,) = table(second_page, "#receipts")
    assert (row["Receipt"], row["Amount"], row["Payment"]) == (
        number,
        "£240.00",
        "Awaiting your payment",
    )

    action(page, "Mark as paid")
    submit(page, "Mark as paid")
    assert figure(page, "Status") == "Completed"
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    assert figure(page, "Status") == "Paid"
    assert figure(page, "Due") == "£0.00"

    second_page.reload()
    (row,) = table(second_page, "#receipts")
    assert row["Payment"].startswith("Received")
    second_page.goto(f"{base}/accounts/{account.pk}/statement/")
    newest = table(second_page, "#statement")[0]
    assert (newest["Credit"], newest["Balance"]) == ("£240.00", "£0.00")


def test_force_direct_debit_is_processing_until_the_bank_confirms(
    page, live_server, log_in, account
):
    base = live_server.url
    invoice = issued(account, "95.50")
    log_in(page, ADMIN)

    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    action(page, "Force direct debit")
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    submit(page, "Force direct debit")
    assert any("Direct debit started" in m for m in messages(page)), messages(page)
    payment = Payment.objects.get(invoice=invoice, method="direct_debit")
    page.goto(f"{base}/admin/payments/payment/{payment.pk}/change/")
    assert figure(page, "Status") == "Processing"
    assert figure(page, "Method") == "Direct debit"

    deliver_gateway_events()  # the bank confirms (the sandbox: three days later)
    page.reload()
    assert figure(page, "Status") == "Completed"
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    assert figure(page, "Status") == "Paid"
    assert figure(page, "Due") == "£0.00"
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    newest = table(page, "#statement")[0]
    assert (newest["Method"], newest["Credit"], newest["Balance"]) == (
        "Direct debit",
        "£95.50",
        "£0.00",
    )


def link_on(page) -> str:
    """The payment link the page shows (absolute, to copy; or a path)."""
    found = re.search(r"(https?://[^\s\"'<]+)?(/pay/[A-Za-z0-9_\-:.]+/)", page.content())
    assert found, f"no payment link on {page.url}"
    return found.group(0)


def test_payment_link_made_by_staff_and_paid_by_the_member(
    page, second_page, live_server, log_in, account, mailoutbox
):
    base = live_server.url
    invoice = issued(account, "125.00")
    log_in(page, ADMIN)

    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    action(page, "Payment link")
    assert figure(page, "Due") == "£125.00"
    submit(page, "Payment link")
    assert any("ayment link" in m for m in messages(page)), messages(page)
    url = link_on(page)  # shown absolute, to copy
    assert url.startswith(base), url
    # and emailed to the member: the same link
    (email,) = mailoutbox
    assert email.to == ["accounts@receipt-studio.test"] and url in email.body

    second_page.goto(url)  # the member: no login, the link is the credential
    assert second_page.get_by_test_id("amount-due").inner_text() == "£125.00"
    second_page.get_by_label("Card number").fill("4242 4242 4242 4242")
    second_page.get_by_role("button", name="Pay £125.00").click()
    second_page.get_by_test_id("processing").wait_for()

    deliver_gateway_events()
    second_page.reload()
    assert "Paid — thank you" in second_page.content()

    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    assert figure(page, "Status") == "Paid"
    assert figure(page, "Due") == "£0.00"
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    newest = table(page, "#statement")[0]
    assert (newest["Method"], newest["Credit"], newest["Balance"]) == ("Card", "£125.00", "£0.00")
