"""A payment for an account group, from the group's page and over the API (issue 11):
a preview of the split before staff confirm, then oldest due first across the group's
accounts, one ``PAYM`` per account, the leftover as credit on the chosen account;
idempotent over the API; refused clearly for a mixed-currency group or an amount that
is not positive. The admin path runs on PostgreSQL with no wrapping transaction."""

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billing_site.api.models import ApiKey
from ledger import services as ledger
from ledger.models import Account, LedgerEntry
from payments.models import Payment, PaymentAllocation, PaymentBatch
from tests.composition.admin_pages import succeeded
from tests.payments.conftest import fresh

from .conftest import section, text_of

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(actor, make_account, issue):
    """Group *Studio* (GBP): A owes 100 (oldest, overdue) and 80 (due later); B owes 50."""
    group = ledger.create_group(name="Studio", actor=actor)
    a = make_account(name="Alpha", group=group)
    b = make_account(name="Beta", group=group)
    a1 = issue(a, "100.00", due_in=-10)
    b1 = issue(b, "50.00", due_in=-5)
    a2 = issue(a, "80.00", due_in=5)
    return {"group": group, "a": a, "b": b, "a1": a1, "b1": b1, "a2": a2}


def paym_entries(account) -> list[Decimal]:
    return [
        e.credit.amount
        for e in LedgerEntry.objects.filter(account_id=account.pk, kind="PAYM").order_by("seq")
    ]


def check_split_of_300(world, batch):
    """300 received: a1 100, b1 50, a2 80 paid, oldest due first; 70 left as credit on B."""
    a, b = world["a"], world["b"]
    payments = {p.account_id: p for p in batch.payments.all()}
    assert set(payments) == {a.pk, b.pk}  # one payment per account
    assert (payments[a.pk].amount.amount, payments[b.pk].amount.amount) == (D("180"), D("120"))
    assert paym_entries(a) == [D("180.00")] and paym_entries(b) == [D("120.00")]
    allocated = PaymentAllocation.objects.filter(payment__batch=batch).order_by("id")
    assert [(x.invoice_id, x.amount.amount) for x in allocated] == [
        (world["a1"].pk, D("100.00")),
        (world["a2"].pk, D("80.00")),
        (world["b1"].pk, D("50.00")),
    ]
    assert {fresh(world[k]).status for k in ("a1", "a2", "b1")} == {"paid"}
    assert fresh(a).balance.amount == 0 and fresh(b).balance.amount == D("70.00")


# --- the admin ------------------------------------------------------------------------


def group_form(world, **changes):
    data = {
        "method": "bank_transfer",
        "received_on": "",
        "amount": "300.00",
        "reference": "BACS 7781",
        "leftover_account": world["b"].pk,
    }
    from django.utils import timezone

    data["received_on"] = timezone.localdate().isoformat()
    return {**data, **changes}


def record_url(group) -> str:
    return reverse("admin:payments_paymentbatch_record") + f"?group={group.pk}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_group_payment_from_the_group_page_preview_then_confirm(admin, world):
    group = world["group"]
    page = admin.get(reverse("admin:ledger_accountgroup_change", args=[group.pk]))
    assert record_url(group) in page.content.decode()  # the button on the group's page
    assert admin.get(record_url(group)).status_code == 200

    preview = admin.post(record_url(group), group_form(world, amount="200.00"))
    assert preview.status_code == 200 and not PaymentBatch.objects.exists()  # nothing yet
    plan = section(preview, "group-plan")
    # Oldest due first across the accounts: A's 100, then B's 50, then 50 of A's 80.
    order = [plan.index(str(world[k])) for k in ("a1", "a2", "b1")]
    assert order[0] < order[1] and "Alpha" in plan and "Beta" in plan
    text = text_of(preview)
    assert "£100.00 £100.00 Paid" in text and "£80.00 £50.00 £30.00 still owed" in text
    assert "Nothing is left over" in text

    form = group_form(world)
    preview = admin.post(record_url(group), form)
    assert "Leftover: £70.00 stays as credit on Beta" in text_of(preview)
    done = succeeded(admin, admin.post(record_url(group), {**form, "confirm": "Confirm"}))
    batch = PaymentBatch.objects.get()
    assert done.url == reverse("admin:ledger_accountgroup_change", args=[group.pk])
    assert done.text() == [
        "Group payment of £300.00 recorded for Studio: Alpha £180.00, Beta £120.00."
    ]
    check_split_of_300(world, batch)
    listing = admin.get(reverse("admin:payments_paymentbatch_change", args=[batch.pk]))
    assert listing.status_code == 200 and b"Alpha" in listing.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_admin_refuses_a_mixed_currency_group_and_a_non_positive_amount(admin, world, make_account):
    page = admin.post(record_url(world["group"]), group_form(world, amount="0"))
    assert page.status_code == 200 and "Must be more than zero." in text_of(page)
    page = admin.post(record_url(world["group"]), group_form(world, amount="-5.00"))
    assert "Must be more than zero." in text_of(page)
    make_account(currency="EUR", name="Gamma", group=world["group"])
    page = admin.get(record_url(world["group"]))
    assert "its accounts use EUR, GBP; a group payment needs one currency" in text_of(page)
    posted = admin.post(record_url(world["group"]), {**group_form(world), "confirm": "Confirm"})
    assert posted.status_code == 200 and not PaymentBatch.objects.exists()


def test_a_back_dated_group_payment_must_keep_the_ledger_in_order(admin, world):
    page = admin.post(record_url(world["group"]), group_form(world, received_on="2001-01-01"))
    assert "kept in date order" in text_of(page)
    assert not PaymentBatch.objects.exists()


def test_clerk_may_record_and_auditor_may_not(clerk, auditor, world):
    assert clerk.get(record_url(world["group"])).status_code == 200
    refused = auditor.get(record_url(world["group"]))
    assert refused.status_code == 403 and "You are not allowed to record payments." in text_of(
        refused
    )


# --- the API --------------------------------------------------------------------------


@pytest.fixture
def api_key(db):
    _key, raw = ApiKey.create_with_key(name="bank feed", scopes=["read", "payments"])
    return raw


def post(raw, path, body, idem=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    if idem:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    response = Client().post(path, json.dumps(body), content_type="application/json", **headers)
    response.data = json.loads(response.content)
    return response


def api_body(world, amount="300.00", currency="GBP"):
    return {
        "amount": {"amount": amount, "currency": currency},
        "method": "bank_transfer",
        "leftover_account": world["b"].pk,
        "reference": "BACS 7781",
    }


def test_api_group_payment_is_split_and_idempotent(api_key, world):
    path = f"/api/v1/account-groups/{world['group'].pk}/payments/"
    first = post(api_key, path, api_body(world), idem="feed-1")
    assert first.status_code == 201, first.data
    again = post(api_key, path, api_body(world), idem="feed-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    batch = PaymentBatch.objects.get()
    check_split_of_300(world, batch)
    body = first.data
    assert body["amount"] == {"amount": "300.00", "currency": "GBP"}
    parts = {p["account"]: p for p in body["payments"]}
    assert parts[world["b"].pk]["credit"] == {"amount": "70.00", "currency": "GBP"}
    assert [a["invoice_number"] for a in parts[world["a"].pk]["allocations"]] == [
        world["a1"].number,
        world["a2"].number,
    ]
    assert Payment.objects.filter(batch=batch).count() == 2


@pytest.mark.parametrize("amount", ["0.00", "-10.00"])
def test_api_refuses_a_non_positive_amount(api_key, world, amount):
    path = f"/api/v1/account-groups/{world['group'].pk}/payments/"
    refused = post(api_key, path, api_body(world, amount=amount), idem=f"neg-{amount}")
    assert refused.status_code == 422, refused.data
    assert refused.data["field"] == "amount" and "must be positive" in refused.data["detail"]
    assert not PaymentBatch.objects.exists()


def test_api_refuses_a_mixed_currency_group(api_key, world, make_account):
    make_account(currency="EUR", name="Gamma", group=world["group"])
    path = f"/api/v1/account-groups/{world['group'].pk}/payments/"
    refused = post(api_key, path, api_body(world), idem="mixed")
    assert refused.status_code == 422, refused.data
    assert refused.data["error"] == "currency_mismatch"
    assert "its accounts use EUR, GBP" in refused.data["detail"]
    assert not PaymentBatch.objects.exists() and Account.objects.count() == 3


def test_api_refuses_a_leftover_account_outside_the_group(api_key, world, make_account):
    stranger = make_account(name="Stranger")
    path = f"/api/v1/account-groups/{world['group'].pk}/payments/"
    body = {**api_body(world), "leftover_account": stranger.pk}
    refused = post(api_key, path, body, idem="stranger")
    assert refused.status_code == 422 and refused.data["field"] == "leftover_account"


def test_api_group_payment_needs_the_payments_scope(world):
    _key, raw = ApiKey.create_with_key(name="crm", scopes=["read", "write"])
    path = f"/api/v1/account-groups/{world['group'].pk}/payments/"
    assert post(raw, path, api_body(world), idem="x").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api_group_payment_on_postgresql(api_key, world):
    path = f"/api/v1/account-groups/{world['group'].pk}/payments/"
    assert post(api_key, path, api_body(world), idem="pg-1").status_code == 201
    assert post(api_key, path, api_body(world), idem="pg-1").status_code == 201
    check_split_of_300(world, PaymentBatch.objects.get())
