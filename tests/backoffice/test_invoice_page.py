"""The invoice page tells the money story (issue 11): a summary first (total, paid,
prepaid by credit memos, refunded, due, status, overdue); a cancelled invoice owes
nothing and a draft nothing yet; issue and cancel on the page itself; action forms that
show what is due and available; a payment link with its absolute URL, emailed after
commit and marked sent only when it left; a timeline in words as its *History*."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import messages
from django.urls import reverse
from django.utils import timezone

from ledger.models import LedgerEntry
from payments import services as pay
from payments.models import Payment, PaymentLink
from tests.composition.admin_pages import buttons, run_action, succeeded
from tests.payments.conftest import balance, fresh, waiting_payment

from .conftest import section, text_of
from .conftest import words as plain

D = Decimal
pytestmark = pytest.mark.django_db


def page_of(admin, invoice):
    page = admin.get(reverse("admin:ledger_invoice_change", args=[invoice.pk]))
    assert page.status_code == 200
    return page


def summary(admin, invoice) -> str:
    return text_of_html(section(page_of(admin, invoice), "invoice-summary"))


def text_of_html(html: str) -> str:
    return plain(html)


def test_summary_opens_the_page_with_every_figure(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    pay.refund_invoice(invoice=invoice, amount="25.00", reason="one session", actor=actor)
    text = summary(admin, invoice)
    for words in [
        "Status Paid",
        "Total £75.00",
        "Paid £50.00 (£75.00 received, less £25.00 refunded)",
        "Prepaid by credit memos £0.00",
        "Refunded £25.00",  # the admin invoice had no Refunded line (the member page had)
        "Due £0.00",
    ]:
        assert words in text, (words, text)


def test_a_fully_refunded_invoice_says_what_was_received_and_refunded(admin, account, issue, actor):
    invoice = issue(account, "60.00")
    pay.mark_invoice_paid(invoice=invoice, method="card", actor=actor)
    pay.refund_invoice(invoice=invoice, reason="cancelled booking", actor=actor)
    text = summary(admin, invoice)
    assert "Status Refunded" in text
    assert "Paid £0.00 (£60.00 received, less £60.00 refunded)" in text, text
    assert "Refunded £60.00" in text and "Due £0.00" in text


def test_a_cancelled_invoice_owes_nothing_and_a_draft_nothing_yet(
    admin, account, issue, make_invoice, actor
):
    cancelled = issue(account, "40.00")
    pay.cancel_invoice(invoice=cancelled, actor=actor, reason="duplicate")
    draft = make_invoice(account, "60.00")
    assert "Due nothing (cancelled)" in summary(admin, cancelled)
    assert "Due nothing yet (draft)" in summary(admin, draft)
    listing = admin.get(reverse("admin:ledger_invoice_changelist"))
    rows = listing.content.decode().split("<tr")
    for invoice in (cancelled, draft):
        [row] = [r for r in rows if f"/ledger/invoice/{invoice.pk}/change/" in r]
        due_cell = row.split('class="field-due_display"', 1)[1].split("</td>", 1)[0]
        assert "£" not in due_cell, due_cell  # was the full amount


def test_overdue_is_marked_on_the_page_and_the_list(admin, account, issue):
    late = issue(account, "30.00", due_in=-4)
    assert "overdue by 4 days" in summary(admin, late)
    listing = admin.get(reverse("admin:ledger_invoice_changelist") + "?overdue=yes")
    assert f"/ledger/invoice/{late.pk}/change/" in listing.content.decode()
    assert "overdue 4 d" in text_of(listing)
    assert "overdue" not in summary(admin, issue(account, "30.00", due_in=3))


def check_issue_and_cancel(admin, account, make_invoice):
    draft = make_invoice(account, "40.00")
    offered = buttons(admin, "ledger_invoice", draft)
    assert {"issue", "cancel", "open_ongoing"} <= set(offered)
    done = run_action(admin, "ledger_invoice", draft, "issue")
    invoice = fresh(draft)
    assert invoice.status == "due" and invoice.number
    assert done.text()[0].startswith(f"Invoice {invoice.number} issued to {account.name}")
    assert "issue" not in buttons(admin, "ledger_invoice", invoice)
    done = run_action(admin, "ledger_invoice", invoice, "cancel", {"reason": "sent twice"})
    invoice = fresh(invoice)
    assert (invoice.status, invoice.cancel_reason) == ("cancelled", "sent twice")
    assert done.text() == [
        f"Invoice {invoice.number} cancelled; £40.00 credited back to the account."
    ]
    assert balance(account) == 0


def test_issue_and_cancel_are_on_the_invoice_page(admin, account, make_invoice):
    check_issue_and_cancel(admin, account, make_invoice)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_issue_and_cancel_on_postgresql(admin, account, make_invoice):
    check_issue_and_cancel(admin, account, make_invoice)


def test_cancel_is_not_offered_once_money_was_paid(admin, account, issue, actor):
    invoice = issue(account, "40.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", amount="10.00", actor=actor)
    assert "cancel" not in buttons(admin, "ledger_invoice", invoice)


def test_action_forms_show_what_is_due_and_available(admin, account, issue, make_wallet):
    invoice = issue(account, "75.00")
    make_wallet(account, "Prepaid", "30.00")
    for action, words in [
        ("mark_paid", "Due £75.00"),
        ("apply_wallet", "Wallet 'Prepaid' available £30.00"),
        ("refund", "Paid £0.00"),
        ("payment_link", "Total £75.00"),
    ]:
        url = reverse("admin:ledger_invoice_action", args=[invoice.pk, action])
        page = admin.get(url)
        assert page.status_code == 200
        assert words in text_of(page), (action, text_of(page)[:600])
        assert "admin/css/forms.css" in page.content.decode()


def test_a_refused_action_keeps_what_was_typed(admin, account, issue):
    invoice = issue(account, "75.00")
    url = reverse("admin:ledger_invoice_action", args=[invoice.pk, "mark_paid"])
    page = admin.post(url, {"method": "cash", "amount": "1.005", "reference": "till 7"})
    assert page.status_code == 200
    assert 'value="till 7"' in page.content.decode() and 'value="1.005"' in page.content.decode()
    assert waiting_payment(invoice).status == "waiting_for_payment"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_payment_link_is_absolute_and_emailed_after_commit(admin, account, issue, mailoutbox):
    invoice = issue(account, "75.00")
    data = {"days": "7", "email": "on", "to": ""}
    done = run_action(admin, "ledger_invoice", invoice, "payment_link", data)
    link = PaymentLink.objects.get(invoice=invoice)
    [text] = done.text()
    assert "http://testserver/pay/" in text and text.endswith(f"emailed to {account.email}.")
    [email] = mailoutbox
    assert email.to == [account.email] and "http://testserver/pay/" in email.body
    assert invoice.number in email.subject and "£75.00" in email.body
    page = section(page_of(admin, invoice), "payment-links")
    assert 'value="http://testserver/pay/' in page  # to copy, absolute
    assert "Sent" in page and f"Emailed to {account.email}" in page
    # The token in the email opens the member's payment page for this invoice.
    path = email.body.split("http://testserver", 1)[1].split()[0]
    assert admin.get(path).status_code == 200
    assert fresh(link).opened_at is not None


def test_a_link_not_emailed_is_not_marked_sent(admin, account, issue, mailoutbox):
    invoice = issue(account, "75.00")
    done = run_action(admin, "ledger_invoice", invoice, "payment_link", {"days": "7"})
    assert done.text()[0].endswith("not emailed: copy it to the member.")
    assert mailoutbox == []
    page = section(page_of(admin, invoice), "payment-links")
    assert "Not sent" in page and "Emailed" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_link_email_that_fails_says_so_and_is_not_sent(admin, account, issue, settings):
    settings.EMAIL_BACKEND = "tests.composition.admin_pages.RefusingEmailBackend"
    invoice = issue(account, "75.00")
    url = reverse("admin:ledger_invoice_action", args=[invoice.pk, "payment_link"])
    response = admin.post(url, {"days": "7", "email": "on"})
    done = succeeded(admin, response, level=messages.WARNING)
    [warning] = done.text(messages.WARNING)
    assert "NOT sent" in warning and "mail server down" in warning
    assert "Not sent" in section(page_of(admin, invoice), "payment-links")
    assert PaymentLink.objects.filter(invoice=invoice).count() == 1  # the link stands


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dispute_recorded_from_the_invoice_page(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    paid = pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    data = {"payment": paid.pk, "amount": "", "reason": "chargeback"}
    done = run_action(admin, "ledger_invoice", invoice, "dispute", data)
    dispute = Payment.objects.get(dispute_of=paid)
    assert done.text() == [
        f"Dispute {dispute.number} recorded on invoice {invoice.number}: £75.00 is owed again."
    ]
    assert fresh(invoice).status == "disputed" and balance(account) == D("-75.00")


def test_history_is_the_timeline_in_words(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", note="BACS", actor=actor)
    pay.refund_invoice(invoice=invoice, amount="20.00", reason="goodwill", actor=actor)
    page = admin.get(reverse("admin:ledger_invoice_history", args=[invoice.pk]))
    assert page.status_code == 200
    text = text_of(page)
    assert "no history" not in text.lower()  # Django's "This object doesn't have a change history"
    assert "doesn’t have a change history" not in text
    for words in [
        "Draft created",
        f"Issued: Invoice {invoice.number}",
        "Marked as paid (Waiting for payment → Completed)",
        "Reason: BACS",
        "£20.00 back to the member, completed",  # the refund pair as ONE event
        f"(ledger: INVC-{invoice.number} and PAYM-P-",
        "Reason: goodwill",
        "-£20.00",
    ]:
        assert words in text, words
    assert text.count("-£20.00") == 1, text  # not the refund, its INVC and its PAYM apart
    for code in ("waiting_for_payment", "mark_paid"):  # labels, never codes
        assert code not in text
    assert "tests" in text  # who: the actor of the services


def test_the_invoice_page_shows_its_timeline_and_holds(admin, account, ongoing, make_wallet, actor):
    invoice = ongoing(account, "40")
    wallet = make_wallet(account, "Prepaid", "100.00")
    pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    page = page_of(admin, invoice)
    holds = text_of_html(section(page, "invoice-holds"))
    assert "Prepaid £40.00 the whole invoice" in holds
    assert "Wallet 'Prepaid': held" in text_of(page)
    assert LedgerEntry.objects.filter(account=account).count() == 0


def test_due_date_filter(admin, account, issue):
    soon = issue(account, "10.00", due_in=3)
    later = issue(account, "10.00", due_in=20)
    listing = admin.get(reverse("admin:ledger_invoice_changelist") + "?due=7").content.decode()
    assert f"/ledger/invoice/{soon.pk}/change/" in listing
    assert f"/ledger/invoice/{later.pk}/change/" not in listing
    today = timezone.localdate() + timedelta(days=0)
    assert str(today.year) in listing  # the date hierarchy
