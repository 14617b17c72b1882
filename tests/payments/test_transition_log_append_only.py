"""The payment transition log cannot be edited (issue 12 item 6): like ledger entries,
the model, its queryset and the database (a trigger) refuse UPDATE and DELETE.

Before issue 12 a transition row could be rewritten with ``save()``, ``update()`` or
plain SQL, and deleted, leaving no trace of who moved a payment."""

import pytest
from django.db import DatabaseError, connection, transaction

from payments import services as pay
from payments.models import PaymentTransition

from .conftest import waiting_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(account, issue, staff):
    payment = waiting_payment(issue(account, "20.00"))
    pay.mark_payment_paid(payment=payment.pk, method="cash", actor=staff)
    return PaymentTransition.objects.get(payment=payment, name="mark_paid")


def stored(row):
    return PaymentTransition.objects.filter(pk=row.pk).values_list(
        "name", "source", "target", "actor_label", "reason"
    )[0]


def raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def table():
    return connection.ops.quote_name(PaymentTransition._meta.db_table)


def test_save_and_delete_of_a_logged_transition_are_refused(row):
    before = stored(row)
    row.actor_label = "someone else"
    with pytest.raises(TypeError, match="append-only"):
        row.save()
    with pytest.raises(TypeError, match="append-only"):
        row.delete()
    assert stored(row) == before


def test_queryset_update_and_delete_are_refused(row):
    before = stored(row)
    with pytest.raises(TypeError, match="append-only"):
        PaymentTransition.objects.filter(pk=row.pk).update(actor_label="forged")
    with pytest.raises(TypeError, match="append-only"):
        PaymentTransition.objects.all().delete()
    assert stored(row) == before


def test_raw_sql_update_is_refused_by_the_database(row):
    before = stored(row)
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"UPDATE {table()} SET actor_label = %s WHERE id = %s", ["forged", row.pk])
    assert stored(row) == before


@pytest.mark.postgres
def test_raw_sql_delete_is_refused_by_postgresql(row):
    with pytest.raises(DatabaseError, match="append-only") as exc:
        raw(f"DELETE FROM {table()} WHERE id = %s", [row.pk])
    assert "DELETE" in str(exc.value)
    assert PaymentTransition.objects.filter(pk=row.pk).exists()


def test_new_transitions_are_still_logged(row, staff):
    refund = pay.refund_payment(payment=row.payment_id, actor=staff)
    assert PaymentTransition.objects.filter(payment=refund, name="create").exists()
