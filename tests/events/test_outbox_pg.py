"""The outbox on PostgreSQL: gapless per-account numbers under real concurrency, the
append-only trigger, and an API write through its URL leaving its event.

Real threads, each with its own connection, started together by a barrier, each
closing its connection in ``finally`` (tests/concurrency's helper)."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from events import services as events
from events.models import Event, EventType
from ledger import services as ledger
from payments import services as pay
from tests.concurrency.test_posting_concurrency import run_threads

from .conftest import ACTOR, events_of, invoice, only

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8
EMITS = 25


@pytest.fixture
def acct(db):
    return ledger.create_account(
        name="Race Ltd", email="r@example.test", currency="GBP", actor=ACTOR
    )


def test_seq_is_gapless_under_8_threads_with_rollbacks(acct):
    """Eight threads emit for one account without any other lock; every third
    transaction rolls back after its emit. The committed events are numbered 1..n."""
    inv = invoice(acct, "10.00", issue=True)

    def worker(n):
        def run():
            for i in range(EMITS):
                try:
                    with transaction.atomic():
                        events.emit(
                            EventType.INVOICE_OVERDUE, account=acct.pk, objects={"invoice": inv}
                        )
                        if (n + i) % 3 == 0:
                            raise RuntimeError("rolled back after its emit")
                except RuntimeError:
                    pass

        return run

    errors = run_threads([worker(n) for n in range(THREADS)])
    assert errors == []
    seqs = sorted(Event.objects.filter(account=acct).values_list("seq", flat=True))
    rolled_back = sum(1 for n in range(THREADS) for i in range(EMITS) if (n + i) % 3 == 0)
    assert len(seqs) == 1 + THREADS * EMITS - rolled_back  # + invoice.issued
    assert seqs == list(range(1, len(seqs) + 1))


def test_seq_is_gapless_under_8_threads_of_real_payments(acct):
    """Eight threads record payments on one account at once: one payment.completed
    each, numbered without gaps or duplicates."""

    def worker():
        pay.record_payment(account=acct.pk, amount="5.00", method="cash", actor=ACTOR)

    assert run_threads([worker] * THREADS) == []
    got = events_of(acct)
    assert [e.type for e in got] == [EventType.PAYMENT_COMPLETED] * THREADS
    assert [e.seq for e in got] == list(range(1, THREADS + 1))


def test_the_trigger_refuses_update_and_delete(acct):
    invoice(acct, "10.00", issue=True)
    event = only(acct, EventType.INVOICE_ISSUED)
    for sql in (
        "UPDATE events_event SET payload = '{}'::jsonb WHERE id = %s",
        "DELETE FROM events_event WHERE id = %s",
    ):
        refused = pytest.raises((IntegrityError, InternalError), match="append-only")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.payload["invoice"]["status"] == "due"


def test_an_api_write_leaves_its_event(api, acct):
    draft = invoice(acct, "42.00")
    response = api.post(f"/api/v1/invoices/{draft.pk}/issue/", idem="issue-1")
    assert response.status_code == 200, response.content
    event = only(acct, EventType.INVOICE_ISSUED)
    assert event.payload == {"invoice": api.get(f"/api/v1/invoices/{draft.pk}/").data}
    listed = api.get("/api/v1/events/", {"account": acct.pk}).data["results"]
    assert [e["id"] for e in listed] == [str(event.id)]
