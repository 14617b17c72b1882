"""Ledger entries are never updated or deleted (SPEC section 3): the model, its queryset
and, where it can, the database refuse it."""

import pytest
from django.db import DatabaseError, connection, transaction
from moneyed import Money

from ledger import services
from ledger.models import LedgerEntry
from ledger.services import Posting

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(account, actor):
    [entry] = services.post(
        account=account,
        postings=[Posting(kind="PAYM", amount=Money("50.00", "GBP"), reference="PAYM-1")],
        actor=actor,
    )
    return LedgerEntry.objects.get(pk=entry.pk)


def stored(entry):
    return LedgerEntry.objects.filter(pk=entry.pk).values_list(
        "seq", "credit", "debit", "balance_after", "reference"
    )[0]


def table():
    return connection.ops.quote_name(LedgerEntry._meta.db_table)


def raw(sql, params):
    """Run raw SQL in its own savepoint, as a forger with database access would."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_model_save_of_existing_entry_refused(entry):
    before = stored(entry)
    entry.credit = Money("5000.00", "GBP")
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.save(update_fields=["credit"])
    assert stored(entry) == before


def test_model_delete_refused(entry):
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_refused(entry):
    before = stored(entry)
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).update(reference="FORGED")
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.all().update(credit=0)
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.all().delete()
    assert stored(entry) == before


def test_raw_sql_update_refused_by_the_database(entry):
    """PostgreSQL trigger and SQLite trigger both refuse UPDATE."""
    before = stored(entry)
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"UPDATE {table()} SET reference = %s WHERE id = %s", ["FORGED", entry.pk])
    assert stored(entry) == before


@pytest.mark.postgres
def test_raw_sql_delete_refused_by_postgresql(entry):
    with pytest.raises(DatabaseError, match="append-only") as exc:
        raw(f"DELETE FROM {table()} WHERE id = %s", [entry.pk])
    assert "DELETE" in str(exc.value)
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
def test_raw_sql_update_message_names_the_operation_on_postgresql(entry):
    with pytest.raises(DatabaseError) as exc:
        raw(f"UPDATE {table()} SET description = 'x' WHERE id = %s", [entry.pk])
    assert "append-only" in str(exc.value) and "UPDATE" in str(exc.value)
    assert str(entry.pk) in str(exc.value)


def test_new_entries_still_insert(entry, account, actor):
    services.post(
        account=account,
        postings=[Posting(kind="PAYM", amount=Money("-50.00", "GBP"), reference="PAYM-1")],
        actor=actor,
    )
    account.refresh_from_db()
    assert account.balance == Money(0, "GBP")
    assert LedgerEntry.objects.filter(account=account).count() == 2
