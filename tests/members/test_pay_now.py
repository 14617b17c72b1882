"""*Pay now* and the overdue marker on the member's invoices (issue 11).

*Pay now* is a POST with the CSRF token that reuses the invoice's live payment link or
makes one, then redirects to ``/pay/<token>/``; it is offered only on an invoice a
member can pay by card now. A cancelled invoice owes nothing, an ongoing one nothing
yet; an issued invoice past its due date with money owed is marked overdue."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment, PaymentLink

from .pages import gbp, table_rows

pytestmark = pytest.mark.django_db

ACTOR = ledger.system_actor("tests")


@pytest.fixture
def own_account(member):
    return ledger.create_account(
        name="Pay Now Ltd", email="pay@now.test", currency="GBP", actor=ACTOR, members=[member]
    )


def issued(account, amount="40.00", **kwargs):
    invoice = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Desk", "1", amount)], **kwargs
    )
    return pay.issue_invoice(invoice=invoice, actor=ACTOR)


def pay_url(invoice):
    return reverse("member-invoice-pay", args=[invoice.account_id, invoice.pk])


def link_of(response) -> PaymentLink:
    assert response.status_code == 302, response.status_code
    assert response.url.startswith("/pay/"), response.url
    token = response.url.removeprefix("/pay/").rstrip("/")
    return pay.resolve_link(token)


def test_pay_now_redirects_to_a_link_and_a_second_click_reuses_it(member_client, own_account):
    invoice = issued(own_account)
    first = link_of(member_client.post(pay_url(invoice)))
    assert first.invoice_id == invoice.pk
    second = link_of(member_client.post(pay_url(invoice)))
    assert second.pk == first.pk
    assert PaymentLink.objects.filter(invoice=invoice).count() == 1
    page = member_client.get(f"/pay/{pay.link_token(first)}/")
    assert page.status_code == 200 and gbp("40") in page.content.decode()


def test_a_link_about_to_expire_or_paid_is_not_reused(member_client, own_account):
    invoice = issued(own_account)
    old = pay.create_payment_link(invoice=invoice, actor=ACTOR, days=1)
    PaymentLink.objects.filter(pk=old.pk).update(expires_at=timezone.now() + timedelta(hours=2))
    fresh = link_of(member_client.post(pay_url(invoice)))
    assert fresh.pk != old.pk
    assert fresh.expires_at > timezone.now() + timedelta(days=7)
    PaymentLink.objects.filter(pk=fresh.pk).update(paid_at=timezone.now())
    assert link_of(member_client.post(pay_url(invoice))).pk not in (old.pk, fresh.pk)


def test_pay_now_is_a_post_with_the_csrf_token(member, own_account):
    invoice = issued(own_account)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get(pay_url(invoice)).status_code == 405
    assert client.post(pay_url(invoice)).status_code == 403
    assert not PaymentLink.objects.exists()
    page = client.get(reverse("member-invoice", args=[own_account.pk, invoice.pk]))
    token = page.cookies["csrftoken"].value
    response = client.post(pay_url(invoice), {"csrfmiddlewaretoken": token})
    assert link_of(response).invoice_id == invoice.pk


def test_another_members_invoice_is_a_404_and_creates_nothing(client, other_member, own_account):
    invoice = issued(own_account)
    client.force_login(other_member)
    assert client.post(pay_url(invoice)).status_code == 404
    assert not PaymentLink.objects.exists()


def test_an_invoice_with_nothing_to_pay_is_refused_on_its_page(member_client, own_account):
    invoice = issued(own_account)
    pay.mark_invoice_paid(invoice=invoice, method="cash", actor=ACTOR)
    response = member_client.post(pay_url(invoice), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "member-invoice", args=[own_account.pk, invoice.pk]
    )
    assert "has nothing to pay" in response.content.decode()
    assert 'id="pay-now"' not in response.content.decode()
    assert not PaymentLink.objects.exists()


def test_pay_now_only_where_a_member_can_pay_by_card(member_client, member, settings):
    erp = ledger.create_account(
        name="ERP Ltd",
        email="erp@x.test",
        currency="GBP",
        actor=ACTOR,
        members=[member],
        erp_managed=True,
    )
    invoice = issued(erp)
    url = reverse("member-invoices", args=[erp.pk])
    assert "Pay now" not in member_client.get(url).content.decode()
    assert member_client.post(pay_url(invoice), follow=True).status_code == 200
    assert not PaymentLink.objects.exists()

    own = ledger.create_account(
        name="No Cards Ltd", email="nc@x.test", currency="GBP", actor=ACTOR, members=[member]
    )
    issued(own)
    assert (
        "Pay now" in member_client.get(reverse("member-invoices", args=[own.pk])).content.decode()
    )
    settings.BILLFOLD_GATEWAYS = {}
    assert (
        "Pay now"
        not in member_client.get(reverse("member-invoices", args=[own.pk])).content.decode()
    )


def test_no_pay_now_while_a_receipt_asks_for_a_transfer_or_a_card_is_processing(
    member_client, own_account
):
    receipted = issued(own_account, "25.00")
    waiting = Payment.objects.get(invoice=receipted, status="waiting_for_payment")
    pay.create_receipt(payment=waiting, actor=ACTOR, method="bank_transfer")
    carded = issued(own_account, "35.00")
    waiting = Payment.objects.get(invoice=carded, status="waiting_for_payment")
    pay.start_card_payment(payment=waiting, card_number="4242424242424242", actor=ACTOR)
    rows = {
        r[0]: r
        for r in table_rows(
            member_client.get(reverse("member-invoices", args=[own_account.pk])).content, "invoices"
        )
    }
    assert rows[receipted.number][8] == ""
    assert rows[carded.number][8] == "Payment in progress"
    for invoice, why in ((receipted, "is being receipted"), (carded, "being processed")):
        response = member_client.post(pay_url(invoice), follow=True)
        assert why in response.content.decode()
    assert not PaymentLink.objects.exists()


def test_overdue_cancelled_and_ongoing_say_what_they_owe(member_client, own_account):
    today = timezone.localdate()
    late = issued(own_account, "30.00", due_date=today - timedelta(days=3))
    on_time = issued(own_account, "20.00", due_date=today + timedelta(days=10))
    cancelled = pay.cancel_invoice(invoice=issued(own_account, "10.00"), actor=ACTOR)
    ongoing = ledger.create_invoice(
        account=own_account, actor=ACTOR, lines=[LineSpec("Usage", "1", "5.00")]
    )
    ongoing = ledger.open_invoice(invoice=ongoing, actor=ACTOR)
    html = member_client.get(reverse("member-invoices", args=[own_account.pk])).content
    rows = {r[0]: r for r in table_rows(html, "invoices")}
    assert rows[late.number][3] == "Due Overdue" and rows[late.number][7] == gbp("30")
    assert rows[on_time.number][3] == "Due" and rows[on_time.number][7] == gbp("20")
    assert rows[cancelled.number][3] == "Cancelled" and rows[cancelled.number][7] == gbp("0")
    assert rows[f"Ongoing #{ongoing.pk}"][7] == "not yet"
    assert rows[cancelled.number][8] == "" and rows[f"Ongoing #{ongoing.pk}"][8] == ""

    page = member_client.get(reverse("member-invoice", args=[own_account.pk, late.pk]))
    note = page.content.decode()
    assert f"{gbp('30')} was due on" in note and "(3 days ago)" in note
    assert 'id="pay-now"' in note


def test_invoice_list_queries_do_not_grow_with_rows(
    member_client, own_account, django_assert_max_num_queries
):
    for _ in range(3):
        issued(own_account)
    url = reverse("member-invoices", args=[own_account.pk])
    with django_assert_max_num_queries(12) as few:
        member_client.get(url)
    for _ in range(12):
        issued(own_account)
    with django_assert_max_num_queries(len(few.captured_queries)):
        member_client.get(url)
