"""Payment links over the API (issue 7): staff or an integration create one."""

import pytest
from django.test import Client

from ledger import services as ledger
from payments import services as pay
from payments.models import PaymentLink

pytestmark = pytest.mark.django_db


def test_an_integration_creates_a_link_the_member_can_open(api, account, actor, verified):
    invoice = ledger.create_invoice(
        account=account, actor=actor, lines=[ledger.LineSpec("Desk", "1", "75.00")]
    )
    invoice = pay.issue_invoice(invoice=invoice, actor=actor)
    answer = api.post(f"/api/v1/invoices/{invoice.pk}/payment-link/", {"days": 7}, idem="l1")
    assert answer.status_code == 201, answer.data
    assert answer.data["state"] == "sent" and answer.data["invoice"] == invoice.pk
    again = api.post(f"/api/v1/invoices/{invoice.pk}/payment-link/", {"days": 7}, idem="l1")
    assert again.data == answer.data and PaymentLink.objects.count() == 1  # idempotent
    page = Client().get(answer.data["url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and "£75.00" in page.content.decode()


def test_a_link_for_an_invoice_with_nothing_due_is_refused(api, account, actor):
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[ledger.LineSpec("Desk", "1", "75.00")]
    )
    answer = api.post(f"/api/v1/invoices/{draft.pk}/payment-link/", {})
    assert answer.status_code == 409 and answer.data["error"] == "state_conflict"
    assert "nothing to pay" in answer.data["detail"]
    assert not PaymentLink.objects.exists()


def test_a_link_needs_the_payments_scope(make_key, account, actor):
    from tests.api.conftest import Api

    invoice = pay.issue_invoice(
        invoice=ledger.create_invoice(
            account=account, actor=actor, lines=[ledger.LineSpec("Desk", "1", "5.00")]
        ),
        actor=actor,
    )
    _key, raw = make_key(scopes=["read", "write"])
    answer = Api(raw).post(f"/api/v1/invoices/{invoice.pk}/payment-link/", {})
    assert answer.status_code == 403
