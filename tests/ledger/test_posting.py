"""The posting service (SPEC section 3): seq, running balance, atomicity, refusals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from moneyed import Money

from ledger import services
from ledger.errors import BillingError, CurrencyMismatch, InvalidAmount, InvalidInput
from ledger.models import Account, Invoice, LedgerEntry
from ledger.services import Posting

pytestmark = pytest.mark.django_db


def snapshot(account):
    account = Account.objects.get(pk=account.pk)
    return {
        "entries": LedgerEntry.objects.count(),
        "invoices": Invoice.objects.count(),
        "balance": account.balance,
        "last_seq": account.last_seq,
        "last_posted_at": account.last_posted_at,
    }


def paym(amount, reference="PAYM-T1", **kwargs):
    return Posting(kind="PAYM", amount=amount, reference=reference, **kwargs)


def refused(exc_type, **post_kwargs):
    """Call ``post`` in a savepoint of the test's transaction and return the error."""
    with pytest.raises(exc_type) as exc, transaction.atomic():
        services.post(**post_kwargs)
    return exc.value


# --- what a posting records ---------------------------------------------------------


def test_credit_then_debit_running_balance(account, actor):
    [first] = services.post(account=account, postings=[paym(Money("50.00", "GBP"))], actor=actor)
    [second] = services.post(
        account=account,
        postings=[Posting(kind="INVC", amount=Money("75.00", "GBP"), reference="INVC-X")],
        actor=actor,
    )
    entries = list(LedgerEntry.objects.filter(account=account).order_by("seq"))
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0].credit == Money("50.00", "GBP") and entries[0].debit.amount == 0
    assert entries[0].balance_after == Money("50.00", "GBP")
    assert entries[1].debit == Money("75.00", "GBP") and entries[1].credit.amount == 0
    assert entries[1].balance_after == Money("-25.00", "GBP")
    assert entries[1].amount == Money("75.00", "GBP")
    assert entries[0].actor_label == "system:tests"
    assert entries[0].actor_id is None
    assert (first.seq, second.seq) == (1, 2)
    account.refresh_from_db()
    assert account.balance == Money("-25.00", "GBP")
    assert account.last_seq == 2
    assert account.last_posted_at == entries[1].posted_at


def test_returned_entries_are_the_stored_rows_column_for_column(
    account, make_invoice, django_user_model
):
    """The PostgreSQL path inserts with raw SQL over the model's concrete columns: every
    column the ORM would write is written, with the value the returned object carries."""
    invoice = make_invoice(account, "10.00")
    user = django_user_model.objects.create_user("poster", password="x")
    source = Account.objects.get(pk=account.pk)
    entries = services.post(
        account=account,
        postings=[
            paym(Money("5.00", "GBP"), method="card", invoice=invoice, source=source),
            Posting(kind="INVC", amount=Money("7.50", "GBP"), reference="INVC-X"),
        ],
        actor=services.user_actor(user),
    )
    columns = [f.attname for f in LedgerEntry._meta.concrete_fields]
    for entry in entries:
        stored = LedgerEntry.objects.get(pk=entry.pk)
        assert [getattr(stored, c) for c in columns] == [getattr(entry, c) for c in columns]
    assert entries[0].source == source and entries[0].actor_id == user.pk


def test_passed_account_object_is_refreshed(account, actor):
    services.post(account=account, postings=[paym(Money("5.00", "GBP"))], actor=actor)
    assert account.balance == Money("5.00", "GBP")
    assert account.last_seq == 1


def test_account_may_be_given_by_id(account, actor):
    services.post(account=account.pk, postings=[paym("12.34")], actor=actor)
    account.refresh_from_db()
    assert account.balance == Money("12.34", "GBP")


def test_several_postings_in_one_call_are_consecutive(account, actor):
    entries = services.post(
        account=account,
        postings=[
            Posting(kind="INVC", amount=Money("75.00", "GBP"), reference="INVC-A"),
            paym(Money("50.00", "GBP")),
            Posting(kind="CRED", amount=Money("-50.00", "GBP"), reference="CRED-A"),
        ],
        actor=actor,
    )
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.balance_after.amount for e in entries] == [
        Decimal("-75.00"),
        Decimal("-25.00"),
        Decimal("-75.00"),
    ]
    assert len({e.posted_at for e in entries}) == 1
    account.refresh_from_db()
    assert account.balance == Money("-75.00", "GBP")


def test_negative_credit_refund_and_negative_debit_allowed(account, actor):
    services.post(account=account, postings=[paym("100.00")], actor=actor)
    services.post(account=account, postings=[paym("-30.00", reference="PAYM-R")], actor=actor)
    services.post(
        account=account,
        postings=[Posting(kind="INVC", amount="-20.00", reference="INVC-Z")],
        actor=actor,
    )
    account.refresh_from_db()
    assert account.balance == Money("90.00", "GBP")


def test_jpy_and_kwd_precision_accepted(make_account, actor):
    jpy = make_account("JPY")
    kwd = make_account("KWD")
    services.post(account=jpy, postings=[paym("1200")], actor=actor)
    services.post(account=kwd, postings=[paym("1.001")], actor=actor)
    jpy.refresh_from_db()
    kwd.refresh_from_db()
    assert jpy.balance == Money("1200", "JPY")
    assert kwd.balance == Money("1.001", "KWD")
    assert LedgerEntry.objects.get(account=kwd).credit.amount == Decimal("1.001")


def test_user_actor_is_recorded(account, django_user_model):
    user = django_user_model.objects.create_user(username="clerk", password="x")
    [entry] = services.post(
        account=account, postings=[paym("1.00")], actor=services.user_actor(user)
    )
    entry = LedgerEntry.objects.get(pk=entry.pk)
    assert entry.actor_id == user.pk
    assert entry.actor_label == "clerk"


def test_backdated_postings_in_time_order(account, actor):
    t0 = timezone.now() - timedelta(days=10)
    services.post(account=account, postings=[paym("1.00")], actor=actor, at=t0)
    services.post(account=account, postings=[paym("2.00")], actor=actor, at=t0)  # same: ok
    services.post(account=account, postings=[paym("3.00")], actor=actor)  # now
    posted = list(LedgerEntry.objects.filter(account=account).values_list("posted_at", flat=True))
    assert posted[0] == posted[1] == t0
    assert posted[2] > t0


def test_source_is_linked_generically(account, make_account, actor):
    other = make_account()
    [entry] = services.post(account=account, postings=[paym("1.00", source=other)], actor=actor)
    assert LedgerEntry.objects.get(pk=entry.pk).source == other


# --- refusals: clear message, right status, nothing posted ----------------------------


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("GBP", "10.001"), ("JPY", "10.5"), ("KWD", "1.0001"), ("GBP", Decimal("0.001"))],
)
def test_extra_precision_refused(make_account, actor, currency, amount):
    account = make_account(currency)
    before = snapshot(account)
    err = refused(InvalidAmount, account=account, postings=[paym(amount)], actor=actor)
    assert err.field == "amount"
    assert err.http_status == 422
    assert "more decimal places" in err.detail and currency in err.detail
    assert snapshot(account) == before


def test_extra_precision_in_money_refused(account, actor):
    before = snapshot(account)
    err = refused(
        InvalidAmount, account=account, postings=[paym(Money("10.001", "GBP"))], actor=actor
    )
    assert err.field == "amount"
    assert "10.001" in err.detail
    assert snapshot(account) == before


@pytest.mark.parametrize("amount", [10.5, 10.0])
def test_float_refused(account, actor, amount):
    before = snapshot(account)
    err = refused(InvalidAmount, account=account, postings=[paym(amount)], actor=actor)
    assert err.field == "amount"
    assert err.http_status == 422
    assert "float" in err.detail
    assert snapshot(account) == before


def test_currency_mismatch_refused(account, actor):
    before = snapshot(account)
    err = refused(
        CurrencyMismatch, account=account, postings=[paym(Money("10.00", "EUR"))], actor=actor
    )
    assert err.field == "amount"
    assert err.http_status == 422
    assert "EUR" in err.detail and "GBP" in err.detail
    assert snapshot(account) == before


@pytest.mark.parametrize("amount", ["0", "0.00", Money(0, "GBP"), "-0.00"])
def test_zero_amount_refused(account, actor, amount):
    before = snapshot(account)
    err = refused(InvalidAmount, account=account, postings=[paym(amount)], actor=actor)
    assert err.field == "amount"
    assert err.http_status == 422
    assert "postings[0].amount" in err.detail and "cannot be zero" in err.detail
    assert snapshot(account) == before


def test_unknown_kind_and_missing_reference_refused(account, actor):
    before = snapshot(account)
    err = refused(
        InvalidInput,
        account=account,
        postings=[Posting(kind="XXXX", amount="1.00", reference="R")],
        actor=actor,
    )
    assert err.field == "kind" and "XXXX" in err.detail
    err = refused(InvalidInput, account=account, postings=[paym("1.00", reference="")], actor=actor)
    assert err.field == "reference" and "reference is required" in err.detail
    err = refused(InvalidInput, account=account, postings=[], actor=actor)
    assert err.field == "postings"
    assert snapshot(account) == before


def test_invoice_of_another_account_refused(account, make_account, make_invoice, actor):
    other = make_account()
    invoice = make_invoice(other, "10.00")
    before = snapshot(account)
    err = refused(
        InvalidInput,
        account=account,
        postings=[Posting(kind="INVC", amount="10.00", reference="INVC-X", invoice=invoice)],
        actor=actor,
    )
    assert err.field == "invoice" and "another account" in err.detail
    assert snapshot(account) == before


def test_one_bad_posting_refuses_the_whole_call(account, actor):
    services.post(account=account, postings=[paym("5.00")], actor=actor)
    before = snapshot(account)
    err = refused(
        InvalidAmount,
        account=account,
        postings=[paym("1.00"), paym("2.00"), paym("3.001")],
        actor=actor,
    )
    assert err.field == "amount" and "3.001" in err.detail
    assert snapshot(account) == before


def test_posting_before_the_last_posting_refused(account, actor):
    services.post(account=account, postings=[paym("5.00")], actor=actor)
    before = snapshot(account)
    err = refused(
        InvalidInput,
        account=account,
        postings=[paym("1.00")],
        actor=actor,
        at=timezone.now() - timedelta(days=1),
    )
    assert err.field == "at"
    assert err.http_status == 422
    assert "time order" in err.detail and f"account {account.pk}" in err.detail
    assert snapshot(account) == before


def test_refused_post_changes_nothing_in_a_transactional_caller(account, actor):
    """Within a caller's transaction the refusal rolls back with it: nothing remains."""
    before = snapshot(account)
    with pytest.raises(BillingError), transaction.atomic():
        services.post(account=account, postings=[paym("1.00")], actor=actor)
        services.post(account=account, postings=[paym("0.001")], actor=actor)
    assert snapshot(account) == before


def test_refused_post_leaves_caller_usable(account, actor):
    """A refusal inside the caller's transaction does not poison it (post() uses a
    savepoint when nested), so the caller can report the error and carry on."""
    with pytest.raises(InvalidAmount):
        services.post(account=account, postings=[paym("0")], actor=actor)
    assert LedgerEntry.objects.filter(account=account).count() == 0
