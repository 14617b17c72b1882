"""Every invoice change records its actor (issue 12 item 6, SPEC section 8 "Audited"):
the invoice services write one ``InvoiceChange`` per change — who, when, what — in the
same transaction, and the log is append-only like the entries.

Before issue 12 only ``created_by`` was kept: who edited a line, issued or cancelled an
invoice was not recorded anywhere."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from ledger import services as ledger
from ledger.errors import StateConflict
from ledger.models import InvoiceChange
from ledger.services import LineSpec

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(db):
    user = get_user_model().objects.create_user(username="clerk", password="x")
    return ledger.user_actor(user)


def log(invoice):
    return list(
        InvoiceChange.objects.filter(invoice_id=invoice.pk)
        .order_by("id")
        .values_list("action", "actor_id", "actor_label", "changes")
    )


def test_every_change_names_its_actor_and_what_changed(account, actor, clerk):
    invoice = ledger.create_invoice(
        account=account, actor=clerk, lines=[LineSpec("Desk", "2", "10.00")], description="May"
    )
    ledger.update_invoice(invoice=invoice, actor=clerk, description="June")
    line = ledger.add_line(invoice=invoice, line=LineSpec("Locker", "1", "5.00"), actor=actor)
    ledger.update_line(line=line, quantity="3", actor=clerk)
    ledger.remove_line(line=line, actor=actor)
    ledger.open_invoice(invoice=invoice, actor=clerk)
    posted, _entries = ledger.post_invoice(invoice=invoice, actor=clerk)
    ledger.void_invoice(invoice=invoice, actor=actor, reason="duplicate")

    rows = log(invoice)
    uid = clerk.user.pk
    assert [(a, who, label) for a, who, label, _c in rows] == [
        ("create", uid, "clerk"),
        ("update", uid, "clerk"),
        ("add_line", None, "system:tests"),
        ("update_line", uid, "clerk"),
        ("remove_line", None, "system:tests"),
        ("open", uid, "clerk"),
        ("post", uid, "clerk"),
        ("void", None, "system:tests"),
    ]
    changes = [c for *_rest, c in rows]
    assert changes[0]["description"] == "May"
    assert changes[0]["lines"][0] | {"id": 0} == {
        "id": 0,
        "position": 0,
        "description": "Desk",
        "quantity": "2",
        "unit_price": "10.00",
        "amount": "20.00",
    }
    assert changes[1] == {"description": ["May", "June"]}
    assert changes[2]["line"]["description"] == "Locker"
    assert changes[3] == {"line": line.pk, "quantity": ["1", "3"], "amount": ["5.00", "15.00"]}
    assert changes[4]["line"]["amount"] == "15.00"
    assert changes[5] == {"status": ["draft", "ongoing"]}
    assert changes[6]["number"] == posted.number and changes[6]["total"] == "20.00"
    assert changes[7] == {"status": ["due", "cancelled"], "reason": "duplicate"}


def test_a_refused_change_logs_nothing(account, actor, make_invoice):
    invoice = make_invoice(account, issue=True)
    before = log(invoice)
    with pytest.raises(StateConflict):
        ledger.update_invoice(invoice=invoice, actor=actor, description="too late")
    assert log(invoice) == before


def test_the_log_is_append_only(account, actor, make_invoice):
    invoice = make_invoice(account)
    row = InvoiceChange.objects.get(invoice_id=invoice.pk)
    row.actor_label = "someone else"
    with pytest.raises(TypeError, match="append-only"):
        row.save()
    with pytest.raises(TypeError, match="append-only"):
        row.delete()
    with pytest.raises(TypeError, match="append-only"):
        InvoiceChange.objects.update(actor_label="forged")
    table = connection.ops.quote_name(InvoiceChange._meta.db_table)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET actor_label = 'forged' WHERE id = %s", [row.pk])
    assert InvoiceChange.objects.get(pk=row.pk).actor_label == "system:tests"


def test_a_deleted_draft_keeps_its_history(account, actor, make_invoice):
    """The log is not tied to the invoice row by a constraint: deleting a draft (the
    admin allows it) keeps who created and edited it."""
    invoice = make_invoice(account)
    invoice_id = invoice.pk
    invoice.delete()
    assert InvoiceChange.objects.filter(invoice_id=invoice_id, action="create").exists()
