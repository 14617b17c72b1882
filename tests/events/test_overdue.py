"""The ``invoice.overdue`` event: once per invoice past its due date with money owed
(``payments.services.announce_overdue_invoices``, the hourly job and
``manage.py announce_overdue``); the marker ``Invoice.overdue_announced_at`` is set in the
event's transaction, so a failed emit leaves neither."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from events import services as events
from events.models import Event, EventType
from ledger import services as ledger
from ledger.models import Invoice
from payments import services as pay
from tests.concurrency.test_posting_concurrency import run_threads

from .conftest import ACTOR, events_of, invoice, only

T = EventType


def make_account(name="Late Ltd"):
    return ledger.create_account(
        name=name, email=f"{name.split()[0].lower()}@example.test", currency="GBP", actor=ACTOR
    )


def issued(account, amount="75.00", *, days_late=1):
    draft = invoice(account, amount)
    due = timezone.localdate() - timedelta(days=days_late)
    return pay.issue_invoice(invoice=draft, actor=ACTOR, due_date=due)


def overdue_events(account):
    return events_of(account, T.INVOICE_OVERDUE)


@pytest.mark.django_db
def test_one_day_past_due_is_announced_once(api):
    acct = make_account()
    inv = issued(acct)
    assert pay.announce_overdue_invoices() == 1
    assert pay.announce_overdue_invoices() == 0  # run again: nothing new
    event = only(acct, T.INVOICE_OVERDUE)
    response = api.get(f"/api/v1/invoices/{inv.pk}/")
    assert response.status_code == 200, response.content
    assert event.payload == {"invoice": response.data}
    assert event.payload["invoice"]["status"] == "due"
    inv.refresh_from_db()
    assert inv.overdue_announced_at is not None


@pytest.mark.django_db
def test_a_part_paid_invoice_still_owes_and_is_announced():
    acct = make_account()
    inv = issued(acct, "75.00")
    pay.mark_invoice_paid(invoice=inv, method="bank_transfer", actor=ACTOR, amount="25.00")
    assert pay.announce_overdue_invoices() == 1
    assert only(acct, T.INVOICE_OVERDUE).payload["invoice"]["status"] == "partially_paid"


@pytest.mark.django_db
def test_not_due_paid_cancelled_and_draft_invoices_are_not_announced():
    acct = make_account()
    issued(acct, days_late=0)  # due today: not past it
    issued(acct, days_late=-5)  # due in five days
    paid = issued(acct)
    pay.mark_invoice_paid(invoice=paid, method="bank_transfer", actor=ACTOR)
    pay.cancel_invoice(invoice=issued(acct), actor=ACTOR, reason="duplicate")
    draft = invoice(acct, "10.00")
    Invoice.objects.filter(pk=draft.pk).update(due_date=timezone.localdate() - timedelta(9))
    invoice(acct, "10.00", ongoing=True)
    assert pay.announce_overdue_invoices() == 0
    assert overdue_events(acct) == []
    assert not Invoice.objects.filter(overdue_announced_at__isnull=False).exists()


@pytest.mark.django_db
def test_paid_after_it_was_announced_is_not_announced_again():
    acct = make_account()
    inv = issued(acct)
    assert pay.announce_overdue_invoices() == 1
    pay.mark_invoice_paid(invoice=inv, method="bank_transfer", actor=ACTOR)
    assert pay.announce_overdue_invoices() == 0
    assert len(overdue_events(acct)) == 1


@pytest.mark.django_db
def test_batches_and_the_cron_command():
    acct = make_account()
    invoices = [issued(acct, "5.00", days_late=n + 1) for n in range(5)]
    call_command("announce_overdue", batch=2, verbosity=0)
    announced = [e.payload["invoice"]["id"] for e in overdue_events(acct)]
    assert sorted(announced) == sorted(i.pk for i in invoices)
    seqs = [e.seq for e in events_of(acct)]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db
def test_a_failed_emit_sets_no_marker(monkeypatch):
    acct = make_account()
    first, second = issued(acct), issued(acct)
    real = events.emit_invoice_overdue

    def emit_then_fail(inv):
        if inv.pk == second.pk:
            raise RuntimeError("the outbox is down")
        return real(inv)

    monkeypatch.setattr(events, "emit_invoice_overdue", emit_then_fail)
    with pytest.raises(RuntimeError):
        pay.announce_overdue_invoices()
    assert overdue_events(acct) == []  # the first invoice's event rolled back too
    assert not Invoice.objects.filter(
        pk__in=[first.pk, second.pk], overdue_announced_at__isnull=False
    ).exists()
    monkeypatch.setattr(events, "emit_invoice_overdue", real)
    assert pay.announce_overdue_invoices() == 2  # the next run announces both


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_announce_each_invoice_once():
    """Two real threads (own connections, started together) run the job in small
    batches over three accounts' invoices: every invoice gets exactly one event, the
    counts add up and each account's numbers stay gapless."""
    accounts = [make_account(f"Race{n} Ltd") for n in range(3)]
    invoices = [issued(accounts[n % 3], "5.00", days_late=1 + n % 4) for n in range(24)]
    counts = []

    def run():
        counts.append(pay.announce_overdue_invoices(batch=3))

    assert run_threads([run, run]) == []
    assert sum(counts) == len(invoices)
    rows = Event.objects.filter(type=T.INVOICE_OVERDUE)
    announced = sorted(e.payload["invoice"]["id"] for e in rows)
    assert announced == sorted(i.pk for i in invoices)
    for acct in accounts:
        seqs = [e.seq for e in events_of(acct)]
        assert seqs == list(range(1, len(seqs) + 1))
    assert pay.announce_overdue_invoices() == 0
