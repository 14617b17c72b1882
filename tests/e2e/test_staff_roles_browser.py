"""The same admin pages as a *Billing clerk* and as an *Auditor*, in a real browser on
PostgreSQL (issue 11): the clerk logs in through the admin's form, records and marks
payments, and is offered no refund, dispute or cancellation; a forged POST of one is
refused in the admin's look and changes nothing. The auditor reads every figure and is
offered no action at all; a forged POST is refused the same way."""

import pytest

from ledger import services as ledger
from ledger.models import LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment, PaymentTransition

from .reading import action, figure, messages, submit, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = ledger.system_actor("e2e")
REFUSED_TO_CLERKS = ("Refund", "Record dispute", "Cancel", "Cancel invoice")


def issued(account, amount):
    invoice = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Desk", "1", amount)]
    )
    return pay.issue_invoice(invoice=invoice, actor=ACTOR)


@pytest.fixture
def books():
    account = ledger.create_account(
        name="Roles Ltd", email="roles@members.test", currency="GBP", actor=ACTOR
    )
    paid = issued(account, "90.00")
    completed = pay.mark_invoice_paid(invoice=paid, method="bank_transfer", actor=ACTOR)
    due = issued(account, "40.00")
    return account, paid, completed, due


READ_ONLY_TOOLS = {"Verify ledger"}


def offered(page) -> list[str]:
    """The labels of the action buttons the page offers (not its navigation links, nor
    the read-only checks every role may run, such as *Verify ledger*)."""
    texts = page.locator(".object-tools a.billfold-action, .billfold-tools a").evaluate_all(
        "els => els.map(e => e.textContent.replace(/\\s+/g, ' ').trim())"
    )
    return [text for text in texts if text not in READ_ONLY_TOOLS]


def counts():
    return (LedgerEntry.objects.count(), Payment.objects.count(), PaymentTransition.objects.count())


def forge_post(page, url: str, data: dict) -> tuple[int, str]:
    """POST ``data`` to ``url`` from the logged-in page with its CSRF token, as a forged
    form would; returns the status and the page it answers with."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        url,
        form={**data, "csrfmiddlewaretoken": token},
        headers={"Referer": url, "X-CSRFToken": token},
    )
    return response.status, response.text()


def assert_refused_in_admin_look(page, status, html, base):
    assert status == 403, status
    page.set_content(html)  # read the answer as a page: the admin's header, the reason
    assert page.locator("#site-name, #header").count() >= 1, html[:300]
    assert page.locator(".errornote").count() == 1
    assert "not allowed" in page.locator(".errornote").inner_text()
    assert "Nothing was changed" in page.locator("#content-main").inner_text()


def test_clerk_records_and_marks_but_is_offered_no_refund_dispute_or_cancel(
    page, live_server, log_in, books
):
    base = live_server.url
    account, paid, completed, due = books
    clerk = log_in(page, "Billing clerk")
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")  # the clerk's run goes through the login form
    page.get_by_label("Username").fill(clerk.username)
    page.get_by_label("Password").fill("staff-pass-123")
    page.get_by_role("button", name="Log in").or_(page.locator("input[type=submit]")).click()
    page.wait_for_url(f"{base}/admin/")
    assert "API keys" not in page.locator("#content-main").inner_text()

    page.goto(f"{base}/admin/payments/payment/{completed.pk}/change/")
    assert figure(page, "Amount") == "£90.00"
    assert not set(offered(page)) & set(REFUSED_TO_CLERKS), offered(page)
    page.goto(f"{base}/admin/ledger/invoice/{due.pk}/change/")
    assert "Mark as paid" in offered(page)
    assert not set(offered(page)) & set(REFUSED_TO_CLERKS), offered(page)

    before = counts()
    for action_name in ("refund", "dispute", "cancel"):
        url = f"{base}/admin/payments/payment/{completed.pk}/act/{action_name}/"
        status, html = forge_post(page, url, {"amount": "10.00", "reason": "forged"})
        assert_refused_in_admin_look(page, status, html, base)
    assert counts() == before
    assert not Payment.objects.filter(refund_of=completed).exists()

    # What a clerk may do, works: mark the due invoice as paid.
    page.goto(f"{base}/admin/ledger/invoice/{due.pk}/change/")
    action(page, "Mark as paid")
    page.get_by_label("Method").select_option(label="Cash")
    submit(page, "Mark as paid")
    assert any("Payment recorded" in m for m in messages(page)), messages(page)
    assert figure(page, "Status") == "Paid"
    page.goto(f"{base}/admin/ledger/account/{account.pk}/change/")
    assert "Record a payment received" in offered(page)


def test_auditor_reads_every_figure_and_is_offered_no_action(page, live_server, log_in, books):
    base = live_server.url
    account, paid, completed, due = books
    log_in(page, "Auditor")

    page.goto(f"{base}/admin/")
    assert "API keys" not in page.locator("#content-main").inner_text()
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    rows = table(page, "#statement")
    assert (rows[0]["Debit"], rows[0]["Balance"]) == ("£40.00", "-£40.00")
    assert page.locator(".billfold-balance").inner_text().strip() == "-£40.00"
    assert offered(page) == []
    for url in (
        f"/admin/ledger/account/{account.pk}/change/",
        f"/admin/ledger/invoice/{due.pk}/change/",
        f"/admin/ledger/invoice/{paid.pk}/change/",
        f"/admin/payments/payment/{completed.pk}/change/",
    ):
        page.goto(base + url)
        assert offered(page) == [], (url, offered(page))
    page.goto(f"{base}/admin/ledger/invoice/{due.pk}/change/")
    assert figure(page, "Due") == "£40.00"
    page.goto(f"{base}/admin/ledger/invoice/{paid.pk}/change/")
    assert (figure(page, "Status"), figure(page, "Paid")) == ("Paid", "£90.00")

    before = counts()
    status, html = forge_post(
        page, f"{base}/admin/ledger/invoice/{due.pk}/act/mark_paid/", {"method": "cash"}
    )
    assert_refused_in_admin_look(page, status, html, base)
    status, html = forge_post(
        page,
        f"{base}/admin/payments/payment/record/?account={account.pk}",
        {"method": "cash", "amount": "5.00"},
    )
    assert_refused_in_admin_look(page, status, html, base)
    assert counts() == before
