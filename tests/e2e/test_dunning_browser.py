"""Dunning reminders in real browsers on PostgreSQL (issue 15 items 3-4): staff send
a reminder now from an overdue invoice's page, read it on its timeline and on the
account's Reminders tab, then exclude the account; the member opens the emailed
reminder's payment link on a phone, and their invoice page shows the overdue badge."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import DunningExclusion, Reminder
from payments.services import dunning
from tests.members.conftest import PASSWORD
from tests.members.pages import gbp

from .reading import action, choose, figure, messages, submit, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ACTOR = ledger.system_actor("e2e")
BODY = (
    "Hello {member_name},\n\ninvoice {invoice_number} owes {amount_due} (due {due_date}), "
    "{days_overdue} days ago.\nPay it here: {pay_link}\n"
)


def _levels():
    for name, days in (("Friendly note", -3), ("First reminder", 7), ("Final notice", 30)):
        subject = f"{name}: invoice {{invoice_number}}"
        dunning.save_level(name=name, offset_days=days, subject=subject, body=BODY, actor=ACTOR)


def _overdue_invoice(member):
    account = ledger.create_account(
        name="Late Payer Ltd",
        email="accounts@latepayer.test",
        currency="GBP",
        actor=ACTOR,
        members=[member],
    )
    draft = ledger.create_invoice(
        account=account,
        actor=ACTOR,
        lines=[LineSpec("Meeting room", "3", "45.00"), LineSpec("Coffee", "12", "2.50")],
    )
    today = timezone.localdate()
    invoice = pay.issue_invoice(
        invoice=draft,
        actor=ACTOR,
        at=_at(today - timedelta(days=23)),
        due_date=today - timedelta(9),
    )
    pay.mark_invoice_paid(
        invoice=invoice,
        method="bank_transfer",
        amount="40.00",
        actor=ACTOR,
        at=_at(today - timedelta(days=12)),
    )
    return invoice  # issued with 14 days to pay, 165.00, 40.00 paid: 125.00 9 days late


def _at(day):
    return timezone.make_aware(datetime.combine(day, time(10)))


def page_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_send_a_reminder_then_exclude_the_account_and_the_member_pays_from_it(
    page, second_page, live_server, log_in, django_user_model, screenshots, settings
):
    settings.BILLFOLD_SITE_URL = live_server.url  # the emailed link opens this server
    base = live_server.url
    _levels()
    member = django_user_model.objects.create_user(
        username="lee", password=PASSWORD, email="lee@latepayer.test", first_name="Lee"
    )
    invoice = _overdue_invoice(member)
    when = invoice.due_date.strftime("%-d %b %Y")

    log_in(page, "Billing admin")  # RULES.md: clerks send reminders too; admins exclude
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    assert figure(page, "Due") == gbp("125")
    action(page, "Send reminder now")
    choose(page, "Level", "First reminder")
    submit(page, "Send reminder now")
    assert messages(page) == [
        f"Reminder 'First reminder' for invoice {invoice} sent to accounts@latepayer.test."
    ]
    page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
    timeline = page.locator("#invoice-timeline").inner_text()
    assert "Reminder 'First reminder' sent to accounts@latepayer.test by billing-admin" in timeline
    assert "Reminder 'Friendly note' skipped" in timeline
    page.screenshot(path=screenshots / "admin-invoice-reminder.png", full_page=True)

    (email,) = mail.outbox
    assert email.subject == f"First reminder: invoice {invoice.number}"
    pay_link = re.search(r"Pay it here: (\S+)", email.body).group(1)
    due_long = invoice.due_date.strftime("%-d %B %Y")
    assert email.body == (
        f"Hello Late Payer Ltd,\n\ninvoice {invoice.number} owes {gbp('125')} (due {due_long}), "
        f"9 days ago.\nPay it here: {pay_link}\n"
    )
    assert pay_link.startswith(f"{base}/pay/")

    page.goto(f"{base}/admin/ledger/account/{invoice.account_id}/change/")
    tabs = page.get_by_role("navigation", name="Account sections")
    tabs.get_by_role("link", name="Reminders", exact=True).click()
    page.wait_for_load_state()
    reminders_tab = page.url
    rows = table(page, "#account-reminders")
    assert [(r["Invoice"], r["Level"], r["Status"], r["To"]) for r in rows] == [
        (str(invoice), "First reminder", "Sent", "accounts@latepayer.test"),
        (str(invoice), "Friendly note", "Skipped", "—"),
    ]
    page.get_by_role("link", name="Exclude from reminders").click()
    page.get_by_label("Reason").fill("in a payment plan until March")
    submit(page, "Exclude from reminders")
    assert messages(page)[0].startswith("Late Payer Ltd is excluded from reminders")
    page.goto(reminders_tab)
    excluded = page.locator("#dunning-excluded").inner_text()
    assert "in a payment plan until March" in excluded
    assert page.get_by_role("link", name="Include in reminders").is_visible()
    page.screenshot(path=screenshots / "admin-account-reminders.png", full_page=True)
    assert DunningExclusion.objects.filter(account=invoice.account).exists()
    assert (
        dunning.send_due_reminders(today=timezone.localdate() + timedelta(days=30))["sent"] == 0
        and len(mail.outbox) == 1
    )

    # The member, on a phone: the invoice page with its overdue badge, then the link.
    member_page = second_page
    member_page.set_viewport_size(PHONE)
    member_page.goto(f"{base}/login/")
    member_page.get_by_label("Username").fill("lee")
    member_page.get_by_label("Password").fill(PASSWORD)
    member_page.get_by_role("button", name="Log in").click()
    member_page.wait_for_url(f"{base}/")
    member_page.goto(f"{base}/accounts/{invoice.account_id}/invoices/{invoice.pk}/")
    note = member_page.locator("#overdue-note").inner_text()
    assert note == f"Overdue {gbp('125')} was due on {when} (9 days ago)."
    assert (
        member_page.locator(".status-partially_paid + .overdue, dd .overdue").first.inner_text()
        == "Overdue"
    )
    assert member_page.locator("#pay-now").inner_text() == f"Pay now {gbp('125')}"
    assert page_overflow(member_page) <= 0
    member_page.screenshot(path=screenshots / "member-invoice-overdue-phone.png", full_page=True)

    member_page.goto(pay_link)
    assert member_page.get_by_test_id("amount-due").inner_text() == gbp("125")
    assert member_page.get_by_test_id("overdue").inner_text() == "Overdue"
    assert page_overflow(member_page) <= 0
    button = member_page.get_by_role("button", name=f"Pay {gbp('125')}")
    # styled under the site's CSP (an inline <style> was blocked: the page showed bare)
    assert button.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(29, 79, 145)"
    member_page.screenshot(path=screenshots / "member-pay-link-phone.png", full_page=True)
    reminder = Reminder.objects.get(invoice=invoice, level__name="First reminder")
    assert reminder.pay_url == pay_link
