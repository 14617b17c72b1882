"""Delivery of the reminder emails, after the deciding transaction: a crash between the
commit and the send leaves a ``queued`` row that a later run sends (never a second row);
a mail server that refuses leaves ``failed`` with the error, retried by the next runs up
to ``MAX_ATTEMPTS``; an invoice paid meanwhile is not reminded. Two concurrent runs on
PostgreSQL send nothing twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from events.models import Event, EventType
from ledger.errors import StateConflict
from payments import services as pay
from payments.models import Reminder
from payments.models.dunning import MAX_ATTEMPTS
from payments.services import dunning, dunning_mail
from tests.concurrency.test_posting_concurrency import run_threads

from .conftest import ACTOR, START, account, issued, make_levels

DAY = START + timedelta(days=8)  # 7 days late for invoices due START: "First reminder"


class Refusing:
    """A mail server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")

    def open(self):
        pass

    def close(self):
        pass


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_the_commit_leaves_a_queued_row_the_next_run_sends(monkeypatch):
    make_levels()
    inv = issued(account("Acme Ltd"), due=START)
    monkeypatch.setattr(dunning, "deliver_all", lambda ids, counts=None: counts)  # died
    monkeypatch.setattr(dunning, "deliver_pending", lambda **kw: kw.get("counts"))
    assert dunning.send_due_reminders(today=DAY)["queued"] == 1
    assert mail.outbox == []
    row = Reminder.objects.get(invoice=inv, status="queued")
    monkeypatch.undo()
    counts = dunning.send_due_reminders(today=DAY)
    assert counts == {"queued": 0, "skipped": 0, "sent": 1, "failed": 0}
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1
    assert Reminder.objects.filter(invoice=inv).count() == 2  # the skipped -3 and this
    assert Event.objects.filter(type=EventType.INVOICE_REMINDER_SENT).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refused_email_is_failed_then_retried(settings):
    make_levels()
    inv = issued(account("Acme Ltd"), due=START)
    settings.EMAIL_BACKEND = f"{__name__}.Refusing"
    counts = dunning.send_due_reminders(today=DAY)
    assert counts["queued"] == 1 and counts["failed"] == 1
    row = Reminder.objects.get(invoice=inv, level__offset_days=7)
    assert (row.status, row.error, row.attempts) == ("failed", "mail server down", 1)
    for _ in range(MAX_ATTEMPTS + 1):  # retried until the attempts are used up
        dunning.send_due_reminders(today=DAY)
    row.refresh_from_db()
    assert row.attempts == MAX_ATTEMPTS and row.status == "failed"
    row.attempts = 1
    row.save(update_fields=["attempts"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert dunning.send_due_reminders(today=DAY)["sent"] == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.error == "" and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_paid_between_the_decision_and_the_send_is_not_reminded(monkeypatch):
    make_levels()
    inv = issued(account("Acme Ltd"), due=START)
    monkeypatch.setattr(dunning, "deliver_all", lambda ids, counts=None: counts)
    monkeypatch.setattr(dunning, "deliver_pending", lambda **kw: kw.get("counts"))
    dunning.send_due_reminders(today=DAY)
    pay.mark_invoice_paid(invoice=inv, method="cash", actor=ACTOR)
    monkeypatch.undo()
    counts = dunning.send_due_reminders(today=DAY)
    assert counts["skipped"] == 1 and counts["sent"] == 0 and mail.outbox == []
    row = Reminder.objects.get(invoice=inv, level__offset_days=7)
    assert row.status == "skipped" and row.error == "Not sent: it is paid."


def test_a_claimed_row_is_sent_by_one_caller_only(db):
    make_levels()
    inv = issued(account("Acme Ltd"), due=START)
    reminder = dunning.send_reminder_now(invoice=inv, actor=ACTOR)
    assert dunning_mail.deliver(reminder.pk) == "sent"
    assert dunning_mail.deliver(reminder.pk) is None  # claimed and sent: never again
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_nothing_twice():
    """Two real threads (own connections, started together) run the job in small
    batches over four accounts' invoices: each (invoice, level) once, one email each,
    every account's event numbers gapless."""
    assert connection.vendor == "postgresql"
    make_levels()
    accounts = [account(f"Race{n} Ltd") for n in range(4)]
    invoices = [issued(accounts[n % 4], "5.00", due=START - timedelta(n % 3)) for n in range(24)]
    results = []

    def run():
        results.append(dunning.send_due_reminders(today=DAY, batch=3))

    assert run_threads([run, run, run]) == []
    sent = Reminder.objects.filter(status="sent", level__offset_days=7)
    assert sorted(sent.values_list("invoice_id", flat=True)) == sorted(i.pk for i in invoices)
    assert Reminder.objects.filter(status="skipped").count() == len(invoices)  # the -3 level
    assert sum(r["queued"] for r in results) == len(invoices)
    assert sum(r["sent"] for r in results) == len(invoices) == len(mail.outbox)
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == len(invoices)
    for acct in accounts:
        seqs = list(
            Event.objects.filter(account=acct).order_by("seq").values_list("seq", flat=True)
        )
        assert seqs == list(range(1, len(seqs) + 1))
    assert dunning.send_due_reminders(today=DAY) == {
        "queued": 0,
        "skipped": 0,
        "sent": 0,
        "failed": 0,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_run_and_staff_at_once_send_a_level_once():
    make_levels()
    invoices = [issued(account(f"Both{n} Ltd"), due=START) for n in range(6)]
    errors = []

    def run():
        dunning.send_due_reminders(today=DAY, batch=2)

    def staff():
        for inv in invoices:
            try:
                dunning.send_reminder_now(invoice=inv, level=None, actor=ACTOR)
            except StateConflict as exc:  # the run had it first
                errors.append(exc)

    assert run_threads([run, staff]) == []
    for inv in invoices:
        levels = list(Reminder.objects.filter(invoice=inv).values_list("level__name", "status"))
        assert len(levels) == len({name for name, _ in levels})  # each level once
    assert len(mail.outbox) == Reminder.objects.filter(status="sent").count()
