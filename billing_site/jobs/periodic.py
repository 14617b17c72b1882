"""The periodic jobs and the one step of the scheduler: enqueue each job whose period
slot has begun and has not been enqueued yet.

A slot is ``now`` rounded down to the job's interval (since the Unix epoch, UTC). The
``PeriodicSlot`` row and the enqueue are one transaction: on the database backend the
job's row is written in it, so two schedulers (two hosts) enqueue a slot once; on the
immediate backend (the demo) the job runs after that transaction commits. A slot that
was missed (no scheduler running) is not made up: every job handles everything due
when it runs, so the next slot catches up.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import PeriodicSlot


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # dotted path of a django-tasks task
    every: timedelta


PERIODIC = (
    PeriodicJob("expire_payments", "payments.tasks.expire_payments", timedelta(hours=1)),
    PeriodicJob(
        "announce_overdue_invoices",
        "payments.tasks.announce_overdue_invoices",
        timedelta(hours=1),
    ),
    PeriodicJob("send_reminders", "payments.tasks.send_reminders", timedelta(hours=1)),
    PeriodicJob(
        "send_receipt_emails",
        "billing_site.documents.tasks.send_receipt_emails",
        timedelta(minutes=5),
    ),
    PeriodicJob(
        "retry_gateway_events", "payments.tasks.retry_gateway_events", timedelta(minutes=10)
    ),
    PeriodicJob(
        "deliver_sandbox_events", "payments.tasks.deliver_sandbox_events", timedelta(minutes=1)
    ),
    PeriodicJob("monthly_auto_top_ups", "payments.tasks.monthly_auto_top_ups", timedelta(hours=1)),
    PeriodicJob("close_billing_periods", "payments.tasks.close_billing_periods", timedelta(days=1)),
    PeriodicJob(
        "fan_out_webhook_events",
        "billing_site.webhooks.tasks.fan_out_events",
        timedelta(minutes=1),
    ),
    PeriodicJob(
        "deliver_webhooks", "billing_site.webhooks.tasks.deliver_webhooks", timedelta(minutes=1)
    ),
)


def slot_of(job: PeriodicJob, now: datetime) -> datetime:
    seconds = int(job.every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def _transactional(backend) -> bool:
    """Whether enqueuing writes in our database (the job's row commits with the slot)."""
    return type(backend).__module__.startswith("django_tasks_db")


def enqueue_due(*, now: datetime | None = None, jobs=PERIODIC) -> list[str]:
    """Enqueue every job whose current slot has no ``PeriodicSlot`` yet; return their
    names. Safe to call as often as one likes, from several hosts at once."""
    now = now or timezone.now()
    enqueued = []
    for job in jobs:
        task = import_string(job.task)
        try:
            with transaction.atomic():
                slot = PeriodicSlot.objects.create(name=job.name, slot=slot_of(job, now))
                if _transactional(task.get_backend()):
                    slot.task_id = str(task.enqueue().id)
                    slot.save(update_fields=["task_id"])
                else:
                    transaction.on_commit(task.enqueue)
        except IntegrityError:
            continue  # this slot was enqueued already (by us or another host)
        enqueued.append(job.name)
    return enqueued
