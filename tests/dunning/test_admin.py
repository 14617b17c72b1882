"""Dunning in the admin, through the URL, on PostgreSQL with each request committing:
*Send reminder now* on the invoice page (the email after commit, the row, the timeline,
a level sent twice refused), the account's *Reminders* tab with *Exclude from reminders*
and *Include in reminders*, and the level form's errors."""

from datetime import timedelta

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from payments.models import DunningExclusion, Reminder, ReminderLevel
from payments.services.dunning import send_due_reminders
from tests.backoffice.conftest import text_of
from tests.composition.admin_pages import (
    buttons,
    page_errors,
    run_action,
    succeeded,
    superuser_client,
)

from .conftest import account, issued, make_levels

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin():
    return superuser_client()


def late_invoice(name="Acme Ltd", days=8):
    return issued(account(name), "75.00", due=timezone.localdate() - timedelta(days=days))


def errors_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level >= messages.ERROR]


def test_send_reminder_now_from_the_invoice_page(admin):
    friendly, first, final = make_levels()
    inv = late_invoice()
    url = reverse("admin:ledger_invoice_action", args=[inv.pk, "send_reminder"])
    form = admin.get(url)
    assert form.status_code == 200
    assert f'<option value="{first.pk}" selected>' in form.content.decode()  # the next due
    done = run_action(admin, "ledger_invoice", inv, "send_reminder", {"level": first.pk})
    assert done.text() == [
        f"Reminder 'First reminder' for invoice {inv} sent to acme@example.test."
    ]
    (email,) = mail.outbox
    reminder = Reminder.objects.get(invoice=inv, level=first)
    assert reminder.status == "sent" and reminder.trigger == "staff"
    shown = admin.get(reverse("admin:payments_reminder_change", args=[reminder.pk]))
    assert shown.status_code == 200 and reminder.pay_url in shown.content.decode()  # read-only
    assert reminder.actor_label == "boss" and reminder.pay_url in email.body
    assert Reminder.objects.get(invoice=inv, level=friendly).status == "skipped"
    history = text_of(admin.get(reverse("admin:ledger_invoice_history", args=[inv.pk])))
    assert "Reminder 'First reminder' sent to acme@example.test by boss" in history
    assert "Reminder 'Friendly note' skipped: a later level ('First reminder') was sent" in history
    # The same level again: refused with the reason, nothing written, nothing sent.
    again = admin.post(url, {"level": first.pk})
    assert again.status_code == 200  # the form again, under the message
    assert any("was already sent" in e for e in errors_of(again)), errors_of(again)
    assert Reminder.objects.filter(invoice=inv).count() == 2 and len(mail.outbox) == 1
    assert f'<option value="{final.pk}" selected>' in admin.get(url).content.decode()


def test_a_clerk_sends_a_reminder_now_but_does_not_exclude_accounts():
    from payments.roles import BILLING_CLERK, ensure_roles
    from tests.backoffice.conftest import role_client

    ensure_roles()  # as the migrations left them (a transactional test flushes the groups)
    clerk = role_client(BILLING_CLERK)
    _friendly, first, _final = make_levels()
    inv = late_invoice()
    done = run_action(clerk, "ledger_invoice", inv, "send_reminder", {"level": first.pk})
    assert done.text() == [
        f"Reminder 'First reminder' for invoice {inv} sent to acme@example.test."
    ]
    assert Reminder.objects.get(invoice=inv, level=first).actor_label == "billing-clerk"
    tab = clerk.get(reverse("admin:payments_account_reminders", args=[inv.account_id]))
    assert tab.status_code == 200 and "billfold-action-exclude_dunning" not in tab.content.decode()
    exclude = reverse("admin:payments_account_dunning_exclude", args=[inv.account_id])
    assert clerk.post(exclude, {"reason": "asked by the clerk"}).status_code == 403
    assert not DunningExclusion.objects.exists()


def test_exclude_then_include_on_the_account_reminders_tab(admin):
    make_levels()
    inv = late_invoice()
    acct = inv.account
    tab_url = reverse("admin:payments_account_reminders", args=[acct.pk])
    tab = admin.get(tab_url)
    assert tab.status_code == 200 and "billfold-action-exclude_dunning" in tab.content.decode()
    exclude = reverse("admin:payments_account_dunning_exclude", args=[acct.pk])
    assert admin.get(exclude).status_code == 200
    refused = admin.post(exclude, {"reason": ""})
    assert refused.status_code == 200 and "This field is required." in page_errors(refused)
    assert not DunningExclusion.objects.exists()
    done = succeeded(admin, admin.post(exclude, {"reason": "in a payment plan"}))
    assert done.text()[0].startswith("Acme Ltd is excluded from reminders")
    assert "in a payment plan" in text_of(admin.get(tab_url))
    # Send reminder now is refused for the excluded account, with the reason.
    url = reverse("admin:ledger_invoice_action", args=[inv.pk, "send_reminder"])
    page = admin.get(url)
    assert "is excluded from reminders (in a payment plan)" in text_of(page)
    posted = admin.post(url, {"level": ReminderLevel.objects.get(offset_days=7).pk})
    assert posted.status_code == 302 and not Reminder.objects.exists() and mail.outbox == []
    # Include again: the next reminder run emails it.
    include = reverse("admin:payments_account_dunning_include", args=[acct.pk])
    assert admin.get(include).status_code == 200
    succeeded(admin, admin.post(include))
    assert not DunningExclusion.objects.exists()
    assert "send_reminder" in buttons(admin, "ledger_invoice", inv)
    assert send_due_reminders()["sent"] == 1
    tab = text_of(admin.get(tab_url))
    assert "First reminder" in tab and "Sent" in tab


def test_level_form_errors_then_the_level_and_the_reminder_list(admin):
    add = reverse("admin:payments_reminderlevel_add")
    assert admin.get(add).status_code == 200
    body = {
        "name": "First reminder",
        "offset_days": "7",
        "subject": "Invoice {invoice_number}",
        "body": "Hello {member}, pay here: {pay_link}",
        "is_active": "on",
    }
    refused = admin.post(add, body)
    assert refused.status_code == 200
    assert any("unknown placeholder {member}" in e for e in page_errors(refused))
    assert not ReminderLevel.objects.exists()
    done = succeeded(admin, admin.post(add, {**body, "body": "Hello {member_name}"}))
    assert done.url == reverse("admin:payments_reminderlevel_changelist")
    twin = admin.post(add, {**body, "name": "Twin", "body": "Hi"})
    assert twin.status_code == 200 and any("Another active level" in e for e in page_errors(twin))
    assert ReminderLevel.objects.count() == 1
    level = ReminderLevel.objects.get()
    change = reverse("admin:payments_reminderlevel_change", args=[level.pk])
    succeeded(admin, admin.post(change, {**body, "body": "Hi {member_name}", "offset_days": "10"}))
    level.refresh_from_db()
    assert (level.offset_days, level.body) == (10, "Hi {member_name}")
    reminders = reverse("admin:payments_reminder_changelist")
    query = f"?status__exact=sent&level__id__exact={level.pk}"
    assert admin.get(reminders + query).status_code == 200
    assert admin.get(reverse("admin:payments_reminder_add")).status_code == 403


def test_billing_admins_run_dunning_clerks_send_reminders_and_every_role_sees_it():
    from django.contrib.auth.models import Group

    from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK, ensure_roles

    ensure_roles()  # as the migrations left them (a transactional test flushes the groups)

    def codenames(name):
        perms = Group.objects.get(name=name).permissions.filter(content_type__app_label="payments")
        return set(perms.values_list("codename", flat=True))

    admin_may = {"add_dunningexclusion", "delete_dunningexclusion"}
    levels = {"add_reminderlevel", "change_reminderlevel"}
    assert admin_may | levels | {"add_reminder"} <= codenames(BILLING_ADMIN)
    assert "add_reminder" in codenames(BILLING_CLERK)  # send reminder now
    assert "add_reminder" not in codenames(AUDITOR)
    for role in (BILLING_CLERK, AUDITOR):
        assert {"view_reminder", "view_reminderlevel"} <= codenames(role)
        assert not (admin_may | levels) & codenames(role)
