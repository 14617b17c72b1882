"""The payment and wallet admin as each role sees it: buttons offered only when the
state and the role allow, forged POSTs refused with 403, refusals as clear messages."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from ledger.models import LedgerEntry
from payments import services as pay
from payments.gateways.sandbox import CARD_SUCCESS
from payments.models import Payment, PaymentTransition
from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK
from wallets import services as wallets

pytestmark = pytest.mark.django_db


def client_for(role: str) -> Client:
    user = get_user_model().objects.create_user(
        username=role.replace(" ", "-").lower(), password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def buttons(client, payment) -> list[str]:
    page = client.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert page.status_code == 200
    return re.findall(r"billfold-action-(\w+)", page.content.decode())


def act(client, payment, action, data=None):
    return client.post(f"/admin/payments/payment/{payment.pk}/act/{action}/", data or {})


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def completed(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00")
    invoice = pay.issue_invoice(invoice=invoice, actor=actor)
    return pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)


@pytest.fixture
def waiting(account, make_invoice, actor):
    invoice = pay.issue_invoice(invoice=make_invoice(account, "40.00"), actor=actor)
    return Payment.objects.get(invoice=invoice, status="waiting_for_payment")


def counts():
    return (LedgerEntry.objects.count(), PaymentTransition.objects.count(), Payment.objects.count())


def test_admin_sees_refund_and_dispute_and_can_refund(completed):
    admin = client_for(BILLING_ADMIN)
    assert {"refund", "dispute"} <= set(buttons(admin, completed))
    response = act(admin, completed, "refund", {"amount": "10.00", "reason": "goodwill"})
    assert response.status_code == 302
    assert any("Refund" in m for m in messages_of(response))
    assert Payment.objects.filter(refund_of=completed).count() == 1


def test_clerk_has_no_refund_button_and_a_forged_post_gets_403(completed):
    clerk = client_for(BILLING_CLERK)
    assert "refund" not in buttons(clerk, completed)
    assert "dispute" not in buttons(clerk, completed)
    before = counts()
    assert act(clerk, completed, "refund", {"amount": "10.00"}).status_code == 403
    assert act(clerk, completed, "dispute", {}).status_code == 403
    assert counts() == before


def test_clerk_can_mark_paid_but_not_cancel(waiting):
    clerk = client_for(BILLING_CLERK)
    offered = buttons(clerk, waiting)
    assert "mark_paid" in offered and "cancel" not in offered
    before = counts()
    assert act(clerk, waiting, "cancel", {"reason": "x"}).status_code == 403
    assert counts() == before
    response = act(clerk, waiting, "mark_paid", {"method": "cash"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == "completed"


def test_auditor_can_read_but_change_nothing(waiting, completed):
    auditor = client_for(AUDITOR)
    assert buttons(auditor, waiting) == [] and buttons(auditor, completed) == []
    before = counts()
    for payment, action in [
        (waiting, "mark_paid"),
        (waiting, "cancel"),
        (waiting, "create_receipt"),
        (completed, "refund"),
        (completed, "dispute"),
        (completed, "assign"),
    ]:
        assert act(auditor, payment, action, {"method": "cash"}).status_code == 403
    assert counts() == before
    assert auditor.get("/admin/ledger/invoice/").status_code == 200


def test_no_action_while_processing_and_a_forged_post_is_refused(waiting, actor):
    pay.start_card_payment(payment=waiting, card_number=CARD_SUCCESS, actor=actor)
    admin = client_for(BILLING_ADMIN)
    assert buttons(admin, waiting) == []
    before = counts()
    response = act(admin, waiting, "cancel", {"reason": "forged"})
    assert response.status_code == 302
    assert any("processing" in m for m in messages_of(response))
    assert counts() == before


def test_bad_amount_is_refused_with_a_clear_message(waiting):
    admin = client_for(BILLING_ADMIN)
    before = counts()
    response = act(admin, waiting, "mark_paid", {"method": "cash", "amount": "1.001"})
    assert any("more decimal places than GBP allows" in m for m in messages_of(response))
    assert counts() == before


def test_wallet_actions_follow_roles(account, actor):
    wallet = wallets.create_wallet(account=account, name="Prepaid", actor=actor)
    wallets.top_up(wallet=wallet, amount="50.00", actor=actor, grant=True)
    admin, clerk, auditor = (client_for(r) for r in (BILLING_ADMIN, BILLING_CLERK, AUDITOR))
    page = admin.get(f"/admin/wallets/wallet/{wallet.pk}/change/")
    offered = re.findall(r"billfold-action-(\w+)", page.content.decode())
    assert {"grant", "transfer", "apply", "top_up"} <= set(offered)
    assert (
        clerk.post(f"/admin/wallets/wallet/{wallet.pk}/act/transfer/", {"amount": "5"}).status_code
        == 403
    )
    assert (
        auditor.post(f"/admin/wallets/wallet/{wallet.pk}/act/grant/", {"amount": "5"}).status_code
        == 403
    )
    response = admin.post(f"/admin/wallets/wallet/{wallet.pk}/act/transfer/", {"amount": "500.00"})
    assert any("refused: only £50.00 is available" in m for m in messages_of(response))
    response = admin.post(f"/admin/wallets/wallet/{wallet.pk}/act/transfer/", {"amount": "20.00"})
    wallet.refresh_from_db()
    account.refresh_from_db()
    assert wallet.available.amount == 30 and account.balance.amount == 20
