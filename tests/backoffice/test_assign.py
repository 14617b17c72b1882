"""Assign a payment's free money to several chosen invoices at once (issue 11): an amount
per invoice, defaulting to what is due and capped by what the payment has free
(``Payment.unallocated``); the form keeps the input when something is refused."""

from decimal import Decimal

import pytest
from django.urls import reverse

from payments import services as pay
from payments.models import PaymentAllocation
from tests.composition.admin_pages import run_action
from tests.payments.conftest import balance, fresh, waiting_payment

from .conftest import text_of

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(account, issue):
    """Three invoices, oldest due first: 40, 30, 50 (issued before any credit)."""
    return [
        issue(account, "40.00", due_in=-3),
        issue(account, "30.00", due_in=4),
        issue(account, "50.00", due_in=9),
    ]


def credit(account, actor, amount):
    return pay.record_payment(account=account, amount=amount, method="bank_transfer", actor=actor)


def assign_url(payment):
    return reverse("admin:payments_payment_action", args=[payment.pk, "assign"])


def check_several(admin, account, owed, actor):
    payment = credit(account, actor, "100.00")
    first, second, third = owed
    data = {
        f"pick-{first.pk}": "on",
        f"pick-{second.pk}": "on",
        f"pick-{third.pk}": "on",
        f"amount-{third.pk}": "20.00",
    }
    done = run_action(admin, "payments_payment", payment, "assign", data)
    assert done.text() == [
        f"Payment {payment.number}: assigned £40.00 to {first.number}, £30.00 to "
        f"{second.number}, £20.00 to {third.number}."
    ]
    assert [fresh(i).status for i in owed] == ["paid", "paid", "partially_paid"]
    assert waiting_payment(third).amount.amount == D("30.00")
    assert fresh(payment).unallocated.amount == D("10.00")
    assert balance(account) == D("-20.00")


def test_several_invoices_at_once(admin, account, owed, actor):
    check_several(admin, account, owed, actor)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_several_invoices_at_once_on_postgresql(admin, account, owed, actor):
    check_several(admin, account, owed, actor)


def test_empty_amounts_default_to_what_is_due_capped_by_what_is_free(admin, account, owed, actor):
    """Was: an empty amount meant the invoice's whole due and failed when the payment was
    smaller."""
    payment = credit(account, actor, "25.00")
    first, second, _third = owed
    data = {f"pick-{first.pk}": "on", f"pick-{second.pk}": "on"}
    page = admin.post(assign_url(payment), data)
    assert page.status_code == 200  # the first takes all 25: nothing is left for the second
    assert f"Nothing of this payment is left for {second.number}" in text_of(page)
    done = run_action(admin, "payments_payment", payment, "assign", {f"pick-{first.pk}": "on"})
    assert done.text() == [f"Payment {payment.number}: assigned £25.00 to {first.number}."]
    assert fresh(first).amount_due.amount == D("15.00")
    assert fresh(payment).unallocated.amount == 0


def test_more_than_the_payment_has_free_keeps_the_input(admin, account, owed, actor):
    payment = credit(account, actor, "50.00")
    first, second, _third = owed
    data = {
        f"pick-{first.pk}": "on",
        f"amount-{first.pk}": "40.00",
        f"pick-{second.pk}": "on",
        f"amount-{second.pk}": "30.00",
    }
    page = admin.post(assign_url(payment), data)
    assert page.status_code == 200
    assert "That is £70.00 in all, more than the £50.00 payment" in text_of(page)
    html = page.content.decode()
    assert 'value="40.00"' in html and 'value="30.00"' in html  # kept
    assert f'name="pick-{first.pk}"' in html and "checked" in html
    assert not PaymentAllocation.objects.filter(payment=payment).exists()


def test_more_than_is_due_on_an_invoice_is_a_field_error(admin, account, owed, actor):
    payment = credit(account, actor, "100.00")
    first = owed[0]
    page = admin.post(assign_url(payment), {f"pick-{first.pk}": "on", f"amount-{first.pk}": "41"})
    assert f"the £40.00 due on {first.number}" in text_of(page)


def test_nothing_chosen(admin, account, owed, actor):
    payment = credit(account, actor, "10.00")
    page = admin.post(assign_url(payment), {})
    assert page.status_code == 200 and "Choose at least one invoice." in text_of(page)


def test_the_form_lists_open_invoices_oldest_due_first_with_what_is_free(
    admin, account, owed, actor
):
    payment = credit(account, actor, "60.00")
    page = admin.get(assign_url(payment))
    html = page.content.decode()
    positions = [html.index(f"pick-{i.pk}") for i in owed]
    assert positions == sorted(positions)
    assert "Free to assign £60.00" in text_of(page)
    assert 'placeholder="£40.00"' in html  # what is due, as the empty amount's meaning
