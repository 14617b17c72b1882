"""A *Billing admin* in a real browser on PostgreSQL (issue 11), walking the ledger
workflows of the source documents (../shared/seeds: the Nexudus payments tab, the
ProAbono payment rules) and reading the money figures off the pages: credit applied
automatically at issue, mark as paid with a method and a note, refunds whole and part,
cancelling an invoice, a dispute and the payment that settles it again.

The live server runs without a wrapping transaction (``transaction=True``), so every
admin write commits as in production, row locks and all."""

import pytest

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay

from .reading import action, figure, messages, submit, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADMIN = "Billing admin"
ACTOR = ledger.system_actor("e2e")


def account_named(name, **kwargs):
    return ledger.create_account(
        name=name,
        email=f"{name.split()[0].lower()}@members.test",
        currency="GBP",
        actor=ACTOR,
        **kwargs,
    )


def draft(account, *amounts, description="Services"):
    lines = [LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts)]
    return ledger.create_invoice(account=account, actor=ACTOR, lines=lines, description=description)


def issued(account, *amounts):
    return pay.issue_invoice(invoice=draft(account, *amounts), actor=ACTOR)


def open_invoice(page, base, invoice):
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")


def payments_tab(page, base, account) -> list[dict]:
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    return table(page, "#statement")


def cells(rows, *names):
    return [tuple(row[n] for n in names) for row in rows]


def test_credit_is_applied_at_issue_as_on_the_payments_tab(page, live_server, log_in):
    """Nexudus: balance +£50, invoice £75 raised: INVC 75 debit, PAYM 50 credit, CRED -50
    credit; balance -£25; the invoice partially paid with £25 due."""
    base = live_server.url
    account = account_named("Worked Example Ltd")
    pay.record_payment(account=account, amount="50.00", method="cash", actor=ACTOR)
    invoice = draft(account, "75.00")
    log_in(page, ADMIN)

    open_invoice(page, base, invoice)  # the draft's own page: Issue
    action(page, "Issue")
    submit(page, "Issue")
    invoice.refresh_from_db()
    assert any(invoice.number in m for m in messages(page)), messages(page)

    rows = payments_tab(page, base, account)
    assert cells(rows[:3], "Debit", "Credit", "Balance") == [
        ("", "-£50.00", "-£25.00"),
        ("", "£50.00", "£25.00"),
        ("£75.00", "", "-£25.00"),
    ]
    assert rows[0]["Reference"].startswith("CRED")
    assert rows[2]["Reference"] == f"INVC-{invoice.number}"
    assert "-£25.00" in page.locator(".billfold-balance").inner_text()

    open_invoice(page, base, invoice)
    assert figure(page, "Status") == "Partially paid"
    assert figure(page, "Paid") == "£50.00"
    assert figure(page, "Due") == "£25.00"


def test_mark_as_paid_with_a_method_and_a_note(page, live_server, log_in):
    base = live_server.url
    account = account_named("Cheque Payer Ltd")
    invoice = issued(account, "120.00", "30.00")
    log_in(page, ADMIN)

    open_invoice(page, base, invoice)
    assert figure(page, "Due") == "£150.00"
    action(page, "Mark as paid")
    page.get_by_label("Method").select_option(label="Cheque")
    page.get_by_label("Payer reference").fill("CHQ-001234")
    page.get_by_label("Note").fill("Cheque received at the front desk")
    submit(page, "Mark as paid")
    assert any("Payment recorded" in m for m in messages(page)), messages(page)
    assert figure(page, "Status") == "Paid"
    assert figure(page, "Due") == "£0.00"

    rows = payments_tab(page, base, account)
    newest = rows[0]
    assert newest["Method"] == "Cheque"
    assert (newest["Credit"], newest["Balance"]) == ("£150.00", "£0.00")
    assert invoice.number in newest["Reference"]

    page.goto(f"{base}/admin/payments/payment/?q={invoice.number}")
    page.locator("#result_list tbody tr").filter(has_text="Completed").first.locator("th a").click()
    assert figure(page, "Status") == "Completed"
    assert figure(page, "Method") == "Cheque"
    assert figure(page, "Note") == "Cheque received at the front desk"
    assert figure(page, "Reference") == "CHQ-001234"


def paid_invoice(account, *amounts, method="bank_transfer"):
    invoice = issued(account, *amounts)
    payment = pay.mark_invoice_paid(invoice=invoice, method=method, actor=ACTOR)
    return invoice, payment


def open_payment(page, base, payment):
    page.goto(f"{base}/admin/payments/payment/{payment.pk}/change/")


def test_refund_part_then_the_rest_as_one_event_each(page, live_server, log_in, screenshots):
    """ProAbono/Nexudus: a refund is a second payment the other way; the payments tab
    gets a negative INVC debit and a negative PAYM credit for the amount refunded."""
    base = live_server.url
    account = account_named("Refund Ltd")
    invoice, payment = paid_invoice(account, "100.00")
    log_in(page, ADMIN)

    open_payment(page, base, payment)
    action(page, "Refund")
    page.get_by_label("Amount").fill("30.00")
    page.get_by_label("Reason").fill("Room unavailable one day")
    submit(page, "Refund")
    assert any("Refund" in m and "recorded" in m for m in messages(page)), messages(page)

    rows = payments_tab(page, base, account)
    assert cells(rows[:2], "Kind", "Debit", "Credit", "Balance") == [
        ("PAYM", "", "-£30.00", "£0.00"),
        ("INVC", "-£30.00", "", "£30.00"),
    ]
    assert page.locator(".billfold-balance").inner_text().strip() == "£0.00"

    open_invoice(page, base, invoice)
    assert figure(page, "Refunded") == "£30.00"
    assert figure(page, "Due") == "£0.00"

    # The rest: the invoice's own Refund, amount left empty (= everything left).
    action(page, "Refund")
    page.get_by_label("Reason").fill("Membership ended")
    submit(page, "Refund")
    assert figure(page, "Status") == "Refunded"
    assert figure(page, "Refunded") == "£100.00"
    assert figure(page, "Due") == "£0.00"
    rows = payments_tab(page, base, account)
    assert sorted(cells(rows[:2], "Debit", "Credit")) == [("", "-£70.00"), ("-£70.00", "")]
    assert rows[0]["Balance"] == "£0.00"
    page.screenshot(path=screenshots / "admin-payments-tab.png", full_page=False)
    open_invoice(page, base, invoice)
    page.screenshot(path=screenshots / "admin-invoice.png", full_page=True)


def test_cancel_an_unpaid_invoice_credits_the_account_back(page, live_server, log_in):
    base = live_server.url
    account = account_named("Cancelled Ltd")
    invoice = issued(account, "80.00")
    log_in(page, ADMIN)

    open_invoice(page, base, invoice)
    action(page, "Cancel invoice")
    page.get_by_label("Reason").fill("Raised twice by mistake")
    submit(page, "Cancel invoice")
    assert any("cancelled" in m and "£80.00" in m for m in messages(page)), messages(page)

    rows = payments_tab(page, base, account)
    assert (rows[0]["Kind"], rows[0]["Debit"], rows[0]["Balance"]) == ("INVC", "-£80.00", "£0.00")
    open_invoice(page, base, invoice)
    assert figure(page, "Status") == "Cancelled"
    assert figure(page, "Due") in ("£0.00", "nothing (cancelled)")  # it owes nothing


def test_dispute_puts_the_invoice_back_owed_until_it_is_paid_again(page, live_server, log_in):
    """ProAbono: a dispute is a second payment offsetting the first; the invoice is
    disputed and owed again; a new payment settles it."""
    base = live_server.url
    account = account_named("Chargeback Ltd")
    invoice, payment = paid_invoice(account, "60.00")
    log_in(page, ADMIN)

    open_payment(page, base, payment)
    action(page, "Record dispute")
    page.get_by_label("Reason").fill("Member's bank reversed the transfer")
    submit(page, "Record dispute")
    assert any("owed again" in m for m in messages(page)), messages(page)

    open_invoice(page, base, invoice)
    assert figure(page, "Status") == "Disputed"
    assert figure(page, "Due") == "£60.00"
    rows = payments_tab(page, base, account)
    assert (rows[0]["Kind"], rows[0]["Credit"], rows[0]["Balance"]) == (
        "PAYM",
        "-£60.00",
        "-£60.00",
    )

    open_invoice(page, base, invoice)
    action(page, "Mark as paid")
    page.get_by_label("Method").select_option(label="Bank transfer")
    page.get_by_label("Note").fill("Paid again after the dispute")
    submit(page, "Mark as paid")
    assert figure(page, "Status") == "Paid"
    assert figure(page, "Due") == "£0.00"
    rows = payments_tab(page, base, account)
    assert (rows[0]["Credit"], rows[0]["Balance"]) == ("£60.00", "£0.00")
