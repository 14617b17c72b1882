"""Money received on an account, recorded where staff look (issue 11): a button on the
account page and on its payments tab, a form in the admin's look (its stylesheets, a
breadcrumb to the account) asking for method, date received, amount, reference and note,
and a SUCCESS message like every other action."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import messages
from django.urls import reverse
from django.utils import timezone

from ledger.models import LedgerEntry
from payments.models import Payment
from tests.composition.admin_pages import succeeded
from tests.payments.conftest import balance, fresh

from .conftest import text_of

D = Decimal
pytestmark = pytest.mark.django_db


def record_url(account) -> str:
    return reverse("admin:payments_payment_record") + f"?account={account.pk}"


def form(**changes) -> dict:
    data = {
        "method": "cheque",
        "received_on": timezone.localdate().isoformat(),
        "amount": "40.00",
        "reference": "cheque 000123",
        "note": "left at the front desk",
    }
    return {**data, **changes}


def test_the_button_is_on_the_account_page_and_its_payments_tab(admin, account):
    for name in ("admin:ledger_account_change", "admin:ledger_account_payments"):
        page = admin.get(reverse(name, args=[account.pk]))
        html = page.content.decode().replace("&amp;", "&")
        assert record_url(account) in html, name
        assert "Record a payment received" in html


def test_the_form_is_in_the_admin_look_with_a_breadcrumb_and_a_date(admin, account):
    page = admin.get(record_url(account))
    assert page.status_code == 200
    html = page.content.decode()
    assert "admin/css/forms.css" in html and "ledger/admin.css" in html  # styled
    crumbs = html.split('class="breadcrumbs"', 1)[1].split("</div>", 1)[0]
    assert reverse("admin:ledger_account_change", args=[account.pk]) in crumbs
    assert "Accounts" in crumbs and "Record a payment received" in crumbs
    for name in ("method", "received_on", "amount", "reference", "note"):
        assert f'name="{name}"' in html, name
    assert f'value="{timezone.localdate().isoformat()}"' in html  # today by default
    assert "Credit free to use" in text_of(page)  # the figures it is decided on


def test_recording_posts_paym_with_a_success_message(admin, account):
    done = succeeded(admin, admin.post(record_url(account), form()))
    payment = Payment.objects.get(account=account)
    assert done.url == reverse("admin:ledger_account_payments", args=[account.pk])
    [(level, text)] = done.messages
    assert level == messages.SUCCESS  # was INFO while every other action said SUCCESS
    assert text == (
        f"Payment {payment.number} recorded: £40.00 by cheque, received "
        f"{timezone.localdate():%d %b %Y}; it is on the account as credit."
    )
    assert (payment.status, payment.type, payment.method) == ("completed", "top_up", "cheque")
    assert (payment.reference, payment.note) == ("cheque 000123", "left at the front desk")
    [entry] = LedgerEntry.objects.filter(account=account)
    assert (entry.kind, entry.credit.amount, entry.method) == ("PAYM", D("40.00"), "cheque")
    assert balance(account) == D("40.00")


def test_a_date_received_in_the_past_dates_the_payment(admin, make_account):
    account = make_account()
    yesterday = timezone.localdate() - timedelta(days=1)
    succeeded(admin, admin.post(record_url(account), form(received_on=yesterday.isoformat())))
    payment = Payment.objects.get(account=account)
    entry = LedgerEntry.objects.get(account=account)
    assert timezone.localdate(payment.completed_at) == yesterday
    assert timezone.localdate(entry.posted_at) == yesterday


def test_dates_that_would_break_the_ledger_order_are_refused_keeping_the_input(
    admin, account, issue
):
    issue(account, "10.00")  # posted today
    before = timezone.localdate() - timedelta(days=3)
    page = admin.post(record_url(account), form(received_on=before.isoformat(), amount="12.50"))
    assert page.status_code == 200
    assert "kept in date order" in text_of(page)
    assert 'value="12.50"' in page.content.decode()  # what was typed is kept
    future = timezone.localdate() + timedelta(days=1)
    page = admin.post(record_url(account), form(received_on=future.isoformat()))
    assert "cannot be in the future" in text_of(page)
    assert not Payment.objects.filter(type="top_up").exists()


@pytest.mark.parametrize(
    ("amount", "words"),
    [("0", "Must be more than zero."), ("-1.00", "Must be more than zero."), ("1.001", "decimal")],
)
def test_bad_amounts_are_form_errors(admin, account, amount, words):
    page = admin.post(record_url(account), form(amount=amount))
    assert page.status_code == 200 and words in text_of(page)
    assert not Payment.objects.exists()


def test_refusals_are_in_the_admin_look(auditor, admin, account):
    refused = auditor.get(record_url(account))
    assert refused.status_code == 403
    assert "breadcrumbs" in refused.content.decode()
    assert "You are not allowed to record payments." in text_of(refused)
    missing = admin.get(reverse("admin:payments_payment_record") + "?account=999999")
    assert missing.status_code == 404 and "No account with id 999999" in text_of(missing)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_record_payment_on_postgresql(admin, account):
    succeeded(admin, admin.post(record_url(account), form()))
    assert fresh(account).balance.amount == D("40.00")
