"""Mandates in the admin, through the URL, on PostgreSQL with each request committing:
the account's *Mandates* tab, *Add mandate* (through ``create_mandate``), *Force direct
debit* and *Collect by direct debit* using the mandate with no IBAN typed, the sandbox
bank confirming, and *Revoke*. The IBAN is shown masked everywhere."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from payments import services as pay
from payments.models import GatewayCall, Mandate
from tests.composition.admin_pages import (
    buttons,
    page_errors,
    run_action,
    succeeded,
    superuser_client,
)
from tests.payments.conftest import fresh, waiting_payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture(autouse=True)
def verified_ledger(transactional_db):
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def admin():
    return superuser_client()


@pytest.fixture
def issue(actor):
    from ledger import services as ledger

    def make(account, amount):
        draft = ledger.create_invoice(
            account=account, actor=actor, lines=[ledger.LineSpec("Line", "1", amount)]
        )
        return pay.issue_invoice(invoice=draft, actor=actor)

    return make


def add_mandate(admin, account, **data):
    tab = admin.get(reverse("admin:payments_account_mandates", args=[account.pk]))
    assert tab.status_code == 200 and "billfold-action-add_mandate" in tab.content.decode()
    url = reverse("admin:payments_account_mandate_add", args=[account.pk])
    assert admin.get(url).status_code == 200
    body = {"reference": "MD-ACME-1", "signed_on": timezone.localdate().isoformat(), "iban": IBAN}
    return admin.post(url, {**body, **data})


def test_add_force_direct_debit_with_the_mandate_then_the_bank_confirms(admin, account, issue):
    done = succeeded(admin, add_mandate(admin, account))
    assert done.text() == [
        f"Mandate MD-ACME-1 added (•••• 3000): direct debits of {account.name} use it."
    ]
    mandate = Mandate.objects.get(account=account)
    tab = admin.get(reverse("admin:payments_account_mandates", args=[account.pk])).content.decode()
    assert "•••• 3000" in tab and "3704" not in tab and "billfold-action-revoke" in tab
    assert "billfold-action-add_mandate" not in tab  # one active mandate at a time
    page = admin.get(reverse("admin:payments_mandate_change", args=[mandate.pk])).content.decode()
    assert "•••• 3000" in page and "3704" not in page

    invoice = issue(account, "75.00")
    form = admin.get(
        reverse("admin:ledger_invoice_action", args=[invoice.pk, "force_direct_debit"])
    ).content.decode()
    assert "MD-ACME-1 (•••• 3000)" in form
    done = run_action(admin, "ledger_invoice", invoice, "force_direct_debit", {"iban": ""})
    assert done.text() == [
        f"Direct debit started for invoice {invoice.number}: processing until the bank confirms."
    ]
    payment = invoice.payments.get()
    [call] = GatewayCall.objects.filter(payment=payment)
    assert (call.mandate_id, call.request) == (
        mandate.pk,
        {"mandate": "MD-ACME-1", "iban": "•••• 3000"},
    )
    call_command("deliver_sandbox_events", "--all")
    assert fresh(payment).status == "completed"
    assert fresh(invoice).status == "paid"


def test_collect_a_waiting_payment_under_the_mandate(admin, account, issue, actor):
    pay.create_mandate(
        account=account, reference="MD-2", signed_on=timezone.localdate(), iban=IBAN, actor=actor
    )
    payment = waiting_payment(issue(account, "40.00"))
    run_action(admin, "payments_payment", payment, "direct_debit", {})
    assert fresh(payment).status == "processing"
    assert GatewayCall.objects.get(payment=payment).mandate.reference == "MD-2"


def test_without_a_mandate_the_iban_is_required(admin, account, issue):
    invoice = issue(account, "75.00")
    url = reverse("admin:ledger_invoice_action", args=[invoice.pk, "force_direct_debit"])
    response = admin.post(url, {"iban": ""})
    assert response.status_code == 200 and "This field is required." in page_errors(response)
    assert fresh(waiting_payment(invoice)).status == "waiting_for_payment"


def test_a_bad_iban_keeps_the_form_and_adds_nothing(admin, account):
    response = add_mandate(admin, account, iban="DE89 !!")
    assert response.status_code == 200
    assert any("Iban: not an IBAN" in e for e in page_errors(response))
    assert 'value="MD-ACME-1"' in response.content.decode()
    assert not Mandate.objects.exists()


def test_revoke_from_the_mandate(admin, account, actor):
    mandate = pay.create_mandate(
        account=account, reference="MD-3", signed_on=timezone.localdate(), iban=IBAN, actor=actor
    )
    assert "revoke" in buttons(admin, "payments_mandate", mandate)
    done = run_action(admin, "payments_mandate", mandate, "revoke", {"reason": "bank changed"})
    assert done.text() == ["Mandate MD-3 revoked: direct debits no longer use it."]
    mandate = fresh(mandate)
    assert (mandate.status, mandate.revoked_by_label, mandate.revoke_reason) == (
        "revoked",
        "boss",
        "bank changed",
    )
    assert "revoke" not in buttons(admin, "payments_mandate", mandate)
    tab = admin.get(reverse("admin:payments_account_mandates", args=[account.pk])).content.decode()
    assert "Revoked" in tab and "billfold-action-add_mandate" in tab
