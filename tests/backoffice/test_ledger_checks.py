"""The two scheduled jobs with an admin and an API face (docs/OPERATIONS.md rows 27, 37):
*Verify ledger* on the account page and ``GET /api/v1/accounts/{id}/verification/``
(read-only, every staff role; the command's default chain rule); *Expire overdue waiting
payments now* on the Payments list and ``POST /api/v1/payments/expire-due/`` (billing
admins: ``payments.cancel_payment``; scope ``payments``, idempotent).

The admin tests run through the URL on PostgreSQL with each request committing; the
broken ledger is made as a forger would (the append-only trigger switched off, an entry's
amount edited), and put back before the after-test ``verify_ledger``."""

import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.urls import reverse

from billing_site.api.models import ALL_SCOPES, ApiKey
from ledger.models import LedgerEntry
from ledger.money import format_money
from payments import services as pay
from payments.models import PaymentStatus
from payments.roles import ensure_roles
from tests.api.conftest import Api
from tests.composition.admin_pages import succeeded
from tests.ledger.test_hash_chain import append_only_guard_off
from tests.payments.conftest import fresh, waiting_payment

from .conftest import text_of

TABLE = LedgerEntry._meta.db_table


@pytest.fixture
def roles(transactional_db):
    ensure_roles()  # a transactional test's flush removed the groups the migrations made


@pytest.fixture
def paid_in_part(account, issue, actor):
    """An account with two chained entries: INVC 75.00, PAYM 20.00 (balance −55.00)."""
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", amount="20.00", actor=actor)
    return fresh(account)


@contextmanager
def tampered(account, seq: int = 2):
    """The entry ``seq`` credited 1.00 more behind the trigger's back, then put back."""
    with append_only_guard_off(), connection.cursor() as cursor:
        update = f"UPDATE {TABLE} SET credit = credit + %s WHERE account_id = %s AND seq = %s"
        cursor.execute(update, [1, account.pk, seq])
        try:
            yield
        finally:
            cursor.execute(update, [-1, account.pk, seq])


def key(scopes=ALL_SCOPES, accounts=()) -> Api:
    _key, raw = ApiKey.create_with_key(name=f"k{ApiKey.objects.count()}", scopes=scopes,
                                       accounts=accounts)  # fmt: skip
    return Api(raw)


# --- Verify ledger -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_verify_ledger_from_the_account_page(roles, admin, paid_in_part, clerk, auditor):
    account = paid_in_part
    change = admin.get(reverse("admin:ledger_account_change", args=[account.pk]))
    assert "billfold-action-verify_ledger" in change.content.decode()
    url = reverse("admin:ledger_account_verify", args=[account.pk])
    page = admin.get(url)
    assert page.status_code == 200
    assert f"Consistent: 2 entries, balance {format_money(account.balance)}." in text_of(page)
    for role in (clerk, auditor):  # read-only: every staff role may run it
        assert "Consistent: 2 entries" in text_of(role.get(url))
    with tampered(account):
        broken = text_of(admin.get(url))
    assert "Not consistent: 2 problems in 2 entries" in broken
    assert re.search(r"Entry seq 2: balance_after -55\.00\d* but entries sum to -54\.00", broken)
    assert f"Hash chain broken first at entry (account {account.pk}, seq 2)" in broken
    assert "Consistent: 2 entries" in text_of(admin.get(url))  # put back


@pytest.mark.django_db
def test_verification_over_the_api(paid_in_part, make_account):
    account, other = paid_in_part, make_account(name="Other Ltd")
    api = key(scopes=["read"])
    path = f"/api/v1/accounts/{account.pk}/verification/"
    response = api.get(path)
    assert response.status_code == 200, response.data
    assert response.data == {
        "account": account.pk,
        "consistent": True,
        "entries": 2,
        "balance": {"amount": "-55.00", "currency": "GBP"},
        "problems": [],
    }
    with tampered(account):
        body = api.get(path).data
    assert body["consistent"] is False and body["entries"] == 2
    amounts = r"-55\.00(?:00)? but entries sum to -54\.00(?:00)?"  # SQLite: 4 places
    assert re.fullmatch(f"entry seq 2: balance_after {amounts}", body["problems"][0])
    assert len(body["problems"]) == 2
    assert body["problems"][1].startswith(
        f"hash chain broken first at entry (account {account.pk}, seq 2)"
    )
    assert api.get(path).data["consistent"] is True
    restricted = key(scopes=["read"], accounts=[other])
    assert restricted.get(path).status_code == 404  # like every account resource


# --- Expire overdue waiting payments -----------------------------------------------------


@pytest.fixture
def late_and_not_due(account, issue):
    late = waiting_payment(issue(account, "40.00", due_in=-2))
    not_due = waiting_payment(issue(account, "30.00", due_in=3))
    assert late.status == not_due.status == PaymentStatus.WAITING_FOR_PAYMENT
    return late, not_due


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_expire_overdue_payments_from_the_payments_list(roles, admin, clerk, late_and_not_due):
    late, not_due = late_and_not_due
    changelist = reverse("admin:payments_payment_changelist")
    url = reverse("admin:payments_payment_expire_due")
    assert "billfold-action-expire_due" not in clerk.get(changelist).content.decode()
    assert clerk.post(url).status_code == 403  # a forged POST, in the admin's look
    assert fresh(late).status == PaymentStatus.WAITING_FOR_PAYMENT
    assert "billfold-action-expire_due" in admin.get(changelist).content.decode()
    assert admin.get(url).status_code == 405  # a POST only
    done = succeeded(admin, admin.post(url))
    assert done.text() == ["1 waiting payment past due expired."]
    assert fresh(late).status == PaymentStatus.EXPIRED
    assert fresh(not_due).status == PaymentStatus.WAITING_FOR_PAYMENT
    expiry = fresh(late).transitions.get(name="expire")
    assert expiry.actor_label == "boss"  # who expired it, not the cron job's name
    again = succeeded(admin, admin.post(url))
    assert again.text() == ["No waiting payment was past its due date: nothing expired."]


@pytest.mark.django_db
def test_expire_due_over_the_api(late_and_not_due, account):
    late, not_due = late_and_not_due
    api, path = key(scopes=["payments"]), "/api/v1/payments/expire-due/"
    first = api.post(path, idem="expire-1")
    assert (first.status_code, first.data) == (200, {"expired": 1}), first.data
    assert fresh(late).status == PaymentStatus.EXPIRED
    assert fresh(late).transitions.get(name="expire").actor_label.startswith("api:")
    assert fresh(not_due).status == PaymentStatus.WAITING_FOR_PAYMENT
    replay = api.post(path, idem="expire-1")
    assert (replay.data, replay["Idempotent-Replayed"]) == ({"expired": 1}, "true")
    assert api.post(path, idem="expire-2").data == {"expired": 0}
    assert key(scopes=["read", "write"]).post(path).status_code == 403
    refused = key(scopes=["payments"], accounts=[account]).post(path)
    assert refused.status_code == 403 and "every account" in refused.data["detail"]
