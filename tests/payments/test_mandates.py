"""Direct-debit mandates (issue 14): created through the service with the IBAN checked
as a direct debit checks it, masked but for its last four characters, at most one
active per account (also a database constraint), revoked with who and when, and used
by default when a direct debit is collected."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.errors import InvalidInput, StateConflict
from payments import selectors
from payments import services as pay
from payments.models import GatewayCall, Mandate, Payment
from payments.services.gateway_calls import recover_unsent

from .conftest import fresh, waiting_payment

pytestmark = pytest.mark.django_db

IBAN = "DE89 3704 0044 0532 0130 00"
RETURNED_IBAN = "GB33 BUKB 2020 1555 5555 0002"


def make(account, actor, reference="MD-1", iban=IBAN, **kw):
    kw.setdefault("signed_on", timezone.localdate())
    return pay.create_mandate(account=account, reference=reference, iban=iban, actor=actor, **kw)


def test_create_keeps_only_the_last_four_characters(account, actor):
    mandate = make(account, actor)
    assert (mandate.status, mandate.iban_last4, mandate.iban_masked) == (
        "active",
        "3000",
        "•••• 3000",
    )
    assert mandate.gateway == "sandbox" and mandate.gateway_mandate.startswith("sbx_md_")
    assert "37040044" not in repr(Mandate.objects.filter(pk=mandate.pk).values().get())
    assert selectors.active_mandate(account) == mandate
    assert mandate.created_by_label == actor.label


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"iban": "12"}, "iban"),
        ({"iban": "DE89 3704 !!"}, "iban"),
        ({"reference": ""}, "reference"),
        ({"reference": "x" * 36}, "reference"),
        ({"reference": "bad\nref"}, "reference"),
        ({"signed_on": timezone.localdate() + timedelta(days=1)}, "signed_on"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(account, actor, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        make(account, actor, **kwargs)
    assert refused.value.field == field
    assert not Mandate.objects.exists()


def test_one_active_mandate_per_account_and_unique_references(account, make_account, actor):
    first = make(account, actor)
    with pytest.raises(StateConflict, match="already has an active mandate, MD-1"):
        make(account, actor, reference="MD-2")
    with pytest.raises(InvalidInput, match="already used") as refused:
        make(make_account(), actor, reference="MD-1")
    assert refused.value.field == "reference"
    with pytest.raises(IntegrityError), transaction.atomic():  # the database says so too
        Mandate.objects.create(
            account=account,
            reference="MD-9",
            signed_on=timezone.localdate(),
            iban_last4="0000",
            gateway="sandbox",
            gateway_mandate="x",
            created_by_label="t",
        )
    revoked = pay.revoke_mandate(mandate=first, actor=actor, reason="bank changed")
    assert (revoked.status, revoked.revoked_by_label, revoked.revoke_reason) == (
        "revoked",
        actor.label,
        "bank changed",
    )
    assert revoked.revoked_at is not None and selectors.active_mandate(account) is None
    second = make(account, actor, reference="MD-2")
    assert list(selectors.mandates_of(account)) == [second, revoked]


def test_revoke_twice_is_refused_and_revoked_at_is_set_iff_revoked(account, actor):
    mandate = make(account, actor)
    pay.revoke_mandate(mandate=mandate, actor=actor)
    with pytest.raises(StateConflict, match="already revoked"):
        pay.revoke_mandate(mandate=mandate, actor=actor)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mandate.objects.filter(pk=mandate.pk).update(revoked_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mandate.objects.filter(pk=mandate.pk).update(status="active")


def test_a_direct_debit_uses_the_active_mandate_and_the_call_names_it(
    account, actor, issue, django_capture_on_commit_callbacks
):
    mandate = make(account, actor, iban=RETURNED_IBAN)
    invoice = issue(account, "75.00")
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay.force_direct_debit(invoice=invoice, actor=actor)
    [call] = GatewayCall.objects.filter(payment=payment)
    assert (call.mandate, call.status, call.request) == (
        mandate,
        "accepted",
        {"mandate": "MD-1", "iban": "•••• 0002"},
    )
    call_command("deliver_sandbox_events", "--all")
    # The sandbox returns a mandate whose IBAN ends in 0002, as it returns such an IBAN.
    assert fresh(invoice).status == "due"
    assert Payment.objects.filter(return_of=payment, direction="outgoing").count() == 1


def test_without_a_mandate_or_an_iban_the_refusal_names_the_iban(account, actor, issue):
    invoice = issue(account, "75.00")
    with pytest.raises(InvalidInput, match="no active direct-debit mandate") as refused:
        pay.force_direct_debit(invoice=invoice, actor=actor)
    assert refused.value.field == "iban"
    assert fresh(waiting_payment(invoice)).status == "waiting_for_payment"
    assert not GatewayCall.objects.exists()


def test_a_revoked_or_foreign_mandate_is_refused(account, make_account, actor, issue):
    mandate = make(account, actor)
    other = make(make_account(), actor, reference="MD-OTHER")
    payment = waiting_payment(issue(account, "75.00"))
    with pytest.raises(InvalidInput, match="not a mandate of account") as refused:
        pay.start_direct_debit(payment=payment, mandate=other, actor=actor)
    assert refused.value.field == "mandate"
    with pytest.raises(InvalidInput, match="not both"):
        pay.start_direct_debit(payment=payment, mandate=mandate, iban=IBAN, actor=actor)
    pay.revoke_mandate(mandate=mandate, actor=actor)
    with pytest.raises(StateConflict, match="MD-1 was revoked"):
        pay.start_direct_debit(payment=payment, mandate=mandate, actor=actor)
    assert fresh(payment).status == "waiting_for_payment"


def test_an_unsent_mandate_debit_is_sent_later(account, actor, issue):
    make(account, actor)
    invoice = issue(account, "75.00")
    # The test's transaction never commits, so the call is never sent: as if the
    # process stopped right after the commit.
    payment = pay.force_direct_debit(invoice=invoice, actor=actor)
    GatewayCall.objects.update(created_at=timezone.now() - timedelta(hours=1))
    [call] = recover_unsent()
    assert call.status == "accepted" and fresh(payment).status == "processing"


def test_billing_admins_add_and_revoke_mandates_clerks_and_auditors_see_them():
    from django.contrib.auth.models import Group

    from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK

    def codenames(name):
        perms = Group.objects.get(name=name).permissions.filter(content_type__model="mandate")
        return set(perms.values_list("codename", flat=True))

    assert {"add_mandate", "revoke_mandate", "view_mandate"} <= codenames(BILLING_ADMIN)
    assert codenames(BILLING_CLERK) == codenames(AUDITOR) == {"view_mandate"}
