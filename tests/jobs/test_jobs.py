"""Jobs on django-tasks: the periodic scheduler enqueues each job once per period slot
(immediate backend in the suite: the job runs at once), and one real worker step on
the database backend (``manage.py db_worker --batch``) runs an enqueued job."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from billing_site.jobs.models import PeriodicSlot
from billing_site.jobs.periodic import PERIODIC, PeriodicJob, enqueue_due, slot_of
from events.models import Event, EventType
from ledger import services as ledger
from payments import services as pay
from tests.api.factories import ACTOR, invoice

pytestmark = pytest.mark.django_db
DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
NOW = datetime(2026, 12, 1, 12, 7, 30, tzinfo=UTC)


@pytest.fixture
def overdue_payment(db):
    account = ledger.create_account(
        name="Late Ltd", email="late@example.test", currency="GBP", actor=ACTOR
    )
    draft = invoice(account, "20.00")
    inv = pay.issue_invoice(invoice=draft, actor=ACTOR, due_date=date.today() - timedelta(3))
    return inv.payments.get()


def overdue_events(payment) -> int:
    return Event.objects.filter(
        type=EventType.INVOICE_OVERDUE, account_id=payment.invoice.account_id
    ).count()


def test_the_periodic_jobs():
    assert [(j.name, j.task, j.every) for j in PERIODIC] == [
        ("expire_payments", "payments.tasks.expire_payments", timedelta(hours=1)),
        (
            "announce_overdue_invoices",
            "payments.tasks.announce_overdue_invoices",
            timedelta(hours=1),
        ),
        ("send_reminders", "payments.tasks.send_reminders", timedelta(hours=1)),
        (
            "send_receipt_emails",
            "billing_site.documents.tasks.send_receipt_emails",
            timedelta(minutes=5),
        ),
        ("retry_gateway_events", "payments.tasks.retry_gateway_events", timedelta(minutes=10)),
        ("deliver_sandbox_events", "payments.tasks.deliver_sandbox_events", timedelta(minutes=1)),
        ("monthly_auto_top_ups", "payments.tasks.monthly_auto_top_ups", timedelta(hours=1)),
        ("close_billing_periods", "payments.tasks.close_billing_periods", timedelta(days=1)),
        (
            "fan_out_webhook_events",
            "billing_site.webhooks.tasks.fan_out_events",
            timedelta(minutes=1),
        ),
        ("deliver_webhooks", "billing_site.webhooks.tasks.deliver_webhooks", timedelta(minutes=1)),
    ]


def test_slots_round_down_to_the_interval():
    job = PeriodicJob("x", "payments.tasks.expire_payments", timedelta(minutes=5))
    assert slot_of(job, NOW) == datetime(2026, 12, 1, 12, 5, tzinfo=UTC)


def test_each_job_is_enqueued_once_per_slot(overdue_payment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue_due(now=NOW)
    assert first == [j.name for j in PERIODIC]
    overdue_payment.refresh_from_db()
    assert overdue_payment.status == "expired"  # the immediate backend ran the job
    assert overdue_events(overdue_payment) == 1  # announce_overdue_invoices ran too
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert enqueue_due(now=NOW + timedelta(seconds=20)) == []
    assert callbacks == []
    later = enqueue_due(now=NOW + timedelta(minutes=1))
    assert later == [j.name for j in PERIODIC if j.every == timedelta(minutes=1)]  # next slot
    assert PeriodicSlot.objects.filter(name="expire_payments").count() == 1


@pytest.mark.django_db(transaction=True)  # the worker commits and closes connections
@override_settings(TASKS=DB_BACKEND)
def test_a_real_worker_step_on_the_database_backend(overdue_payment):
    """The scheduler writes the job rows in its transaction; a worker runs them."""
    enqueue_due(now=NOW)
    assert enqueue_due(now=NOW) == []  # idempotent: no second row
    rows = DBTaskResult.objects.filter(task_path="payments.tasks.expire_payments")
    assert rows.count() == 1
    assert PeriodicSlot.objects.get(name="expire_payments").task_id == str(rows.get().id)
    overdue_payment.refresh_from_db()
    assert overdue_payment.status == "waiting_for_payment"  # nothing ran yet
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    overdue_payment.refresh_from_db()
    assert overdue_payment.status == "expired"
    result = rows.get()
    assert result.status == "SUCCESSFUL" and result.return_value == 1


def test_the_scheduler_command_once(overdue_payment, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("schedule_jobs", once=True, verbosity=0)
    assert PeriodicSlot.objects.count() == len(PERIODIC)
    overdue_payment.refresh_from_db()
    assert overdue_payment.status == "expired"


def test_the_cron_commands_stay(overdue_payment):
    call_command("expire_payments", verbosity=0)
    overdue_payment.refresh_from_db()
    assert overdue_payment.status == "expired"
    assert pay.expire_due_payments() == 0
    call_command("announce_overdue", verbosity=0)
    assert overdue_events(overdue_payment) == 1
    assert pay.announce_overdue_invoices() == 0
    out = StringIO()
    call_command("monthly_auto_top_ups", stdout=out)  # no rule here: nothing opened
    assert "0 automatic top-up(s) opened" in out.getvalue()
