"""A *Billing admin* in a real browser on PostgreSQL (issue 11): money received is
recorded where staff look (Togai: "payments can also be recorded separately for every
account or account group") — on an account, with the date it arrived, then assigned to
several invoices at once; and for an account group, previewed (oldest due first, per
account, the leftover's account) before it is confirmed. Figures read off the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment

from .reading import choose, figure, messages, submit, table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADMIN = "Billing admin"
ACTOR = ledger.system_actor("e2e")


def issued(account, amount, due_in_days=14, days_ago=0):
    invoice = ledger.create_invoice(
        account=account,
        actor=ACTOR,
        lines=[LineSpec("Membership", "1", amount)],
        due_date=timezone.localdate() + timedelta(days=due_in_days),
    )
    at = timezone.now() - timedelta(days=days_ago)
    return pay.issue_invoice(invoice=invoice, actor=ACTOR, at=at)


def test_record_a_payment_on_an_account_then_assign_it_to_two_invoices(page, live_server, log_in):
    base = live_server.url
    account = ledger.create_account(
        name="Studio Nine Ltd", email="nine@members.test", currency="GBP", actor=ACTOR
    )
    first = issued(account, "80.00", 5, days_ago=6)
    second = issued(account, "70.00", 20, days_ago=5)
    log_in(page, ADMIN)
    received = timezone.localdate() - timedelta(days=2)  # after the invoices: date order

    page.goto(f"{base}/admin/ledger/account/{account.pk}/change/")
    page.get_by_role("link", name="Record a payment received").first.click()
    assert figure(page, "Ledger balance") == "-£150.00"
    page.get_by_label("Method").select_option(label="Cheque")
    page.get_by_label("Date received").fill(received.isoformat())
    page.get_by_label("Amount (GBP)").fill("200.00")
    page.get_by_label("Payer reference").fill("CHQ 778812")
    page.get_by_label("Note").fill("Posted with a covering letter")
    submit(page, "Record payment")
    done = [m for m in messages(page) if "recorded" in m]
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert done and "£200.00 by cheque" in done[0] and f"{received:%d %b %Y}" in done[0], (
        done,
        errors,
    )

    # On the payments tab: a PAYM credit dated the day it arrived; the balance in credit.
    newest = table(page, "#statement")[0]
    assert (newest["Kind"], newest["Method"], newest["Credit"], newest["Balance"]) == (
        "PAYM",
        "Cheque",
        "£200.00",
        "£50.00",
    )
    assert newest["Date"].startswith(f"{received.day} {received:%b %Y}")

    # Assign it to both invoices at once, amounts left empty: what each still owes.
    payment = Payment.objects.get(account=account, type="top_up", method="cheque")
    page.goto(f"{base}/admin/payments/payment/{payment.pk}/change/")
    assert figure(page, "Free to assign") == "£200.00"
    page.locator(".object-tools").get_by_role("link", name="Assign to invoices").click()
    assign = table(page, "#assign-invoices")
    assert [(r["Invoice"], r["Still due"]) for r in assign] == [
        (first.number, "£80.00"),
        (second.number, "£70.00"),
    ]
    for invoice in (first, second):
        row = page.locator("#assign-invoices tbody tr").filter(has_text=invoice.number)
        row.locator("input[type=checkbox]").check()
    submit(page, "Assign to invoices")
    done = " ".join(messages(page))
    assert f"£80.00 to {first.number}" in done and f"£70.00 to {second.number}" in done, done
    assert figure(page, "Free to assign") == "£50.00"
    for invoice in (first, second):
        page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
        assert figure(page, "Status") == "Paid"
    page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
    assert page.locator(".billfold-balance").inner_text().strip() == "£50.00"  # posts nothing


def test_record_a_group_payment_previewed_then_confirmed(page, live_server, log_in, screenshots):
    base = live_server.url
    head = ledger.create_account(
        name="Coworking Co", email="co@members.test", currency="GBP", actor=ACTOR
    )
    group = ledger.create_group(name="Coworking Co group", admin_account=head, actor=ACTOR)
    mate = ledger.create_account(
        name="Coworker Ann", email="ann@members.test", currency="GBP", actor=ACTOR, group=group
    )
    ledger.update_account(account=head, actor=ACTOR, group=group)
    older = issued(mate, "100.00", -3)  # oldest due first: paid first
    newer = issued(head, "60.00", 10)
    log_in(page, ADMIN)

    page.goto(f"{base}/admin/ledger/accountgroup/{group.pk}/change/")
    page.locator(".object-tools").get_by_role("link", name="Record a group payment").click()
    page.get_by_label("Method").select_option(label="Bank transfer")
    page.get_by_label("Amount (GBP)").fill("200.00")
    page.get_by_label("Payer reference").fill("GROUP-DEC")
    choose(page, "Leftover credit to", "Coworker Ann")
    submit(page, "Preview the split")

    plan = table(page, "#group-plan")
    paid = [(r["Account"], r["Invoice"], r["Paid by this payment"]) for r in plan]
    assert sorted(paid) == [
        ("Coworker Ann", older.number, "£100.00"),
        ("Coworking Co", newer.number, "£60.00"),
    ]
    assert "£40.00 stays as credit on Coworker Ann" in page.locator("#content-main").inner_text()
    page.screenshot(path=screenshots / "admin-group-payment.png", full_page=True)
    submit(page, "Confirm: record £200.00")
    done = " ".join(messages(page))
    assert "Coworker Ann £140.00" in done and "Coworking Co £60.00" in done, done

    for account, credit, balance in ((mate, "£140.00", "£40.00"), (head, "£60.00", "£0.00")):
        page.goto(f"{base}/admin/ledger/account/{account.pk}/payments/")
        newest = table(page, "#statement")[0]
        assert (newest["Kind"], newest["Credit"], newest["Balance"]) == ("PAYM", credit, balance)
    for invoice in (older, newer):
        page.goto(f"{base}/admin/ledger/invoice/{invoice.pk}/change/")
        assert figure(page, "Status") == "Paid"
