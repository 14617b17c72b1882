"""The payments app's jobs (django-tasks, README "Jobs"): the scheduled work that the
cron commands also run, enqueued at their interval by ``manage.py schedule_jobs`` and
executed by ``manage.py db_worker``. Each returns a JSON-ready count."""

from django.conf import settings
from django.db import transaction
from django_tasks import task

from ledger.services import system_actor
from payments.services import announce_overdue_invoices as announce_overdue
from payments.services import expire_due_payments
from payments.services.gateway_calls import recover_unsent
from payments.services.webhooks import retry_pending


@task()
def expire_payments(batch: int = 200) -> int:
    """``manage.py expire_payments``: waiting postpay payments past their due date."""
    return expire_due_payments(batch=batch)


@task()
def announce_overdue_invoices(batch: int = 200) -> int:
    """``manage.py announce_overdue``: one ``invoice.overdue`` event per invoice past its
    due date with money owed, once per invoice."""
    return announce_overdue(batch=batch)


@task()
def send_reminders(batch: int = 200) -> dict:
    """``manage.py send_reminders``: the dunning reminders due today, each level once per
    invoice, and the reminder emails not delivered yet; the counts."""
    from payments.services.dunning import send_due_reminders

    return send_due_reminders(batch=batch)


@task()
def work_billing_run(run_id: int) -> int:
    """Work a billing run (the admin's *Close billing period* and *Add a worker*, the
    API's ``POST /billing-runs/``): issue its pending invoices beside any other worker
    of the run; how many this worker processed."""
    from payments.services.billing_runs import work_run

    return work_run(run_id)


def enqueue_billing_run(run_id: int) -> None:
    """Enqueue a worker of the run once the transaction that started it commits (on
    the immediate backend the run is worked then, in this process)."""
    transaction.on_commit(lambda: work_billing_run.enqueue(run_id))


@task()
def close_billing_periods() -> int:
    """The daily job (``billing_site.jobs.periodic``): start a run through yesterday when
    an ongoing invoice's period has ended, or resume the run that is running, and work
    it; 0 (no run, no empty run) when there is nothing to issue."""
    from payments.services.billing_runs import periods_ended, running_run, start_run, work_run

    if running_run() is None and not periods_ended():
        return 0
    run = start_run(actor=system_actor("close_billing_periods"))
    return work_run(run)


@task()
def deliver_sandbox_events() -> int:
    """``manage.py deliver_sandbox_events``: the sandbox gateway's due outcomes (card
    results, direct debits confirmed or returned days later) sent to its webhook."""
    if "sandbox" not in getattr(settings, "BILLFOLD_GATEWAYS", {}):
        return 0
    from payments.management.commands.deliver_sandbox_events import deliver

    return len(deliver())


@task()
def retry_gateway_events(limit: int = 500) -> int:
    """``manage.py retry_gateway_events``: unsent gateway calls, then stored gateway
    events that have not taken effect yet."""
    recover_unsent()
    return len(retry_pending(limit=limit))


@task()
def auto_top_up_wallet(wallet_id: int) -> int | None:
    """Enqueued after a movement crossed the wallet's low-balance threshold (when it has
    an enabled below-threshold rule): open its automatic top-up; the payment's id."""
    from payments.services.auto_top_ups import run_auto_top_up
    from wallets.models import AutoTopUpTrigger

    payment = run_auto_top_up(wallet=wallet_id, trigger=AutoTopUpTrigger.BELOW_THRESHOLD)
    return payment.pk if payment is not None else None


@task()
def monthly_auto_top_ups() -> int:
    """Monthly automatic top-ups whose day has come (each wallet once a month)."""
    from payments.services.auto_top_ups import monthly_auto_top_ups as run

    return run()


def enqueue_auto_top_up(wallet_id: int) -> None:
    """``wallets.services.alerts`` calls this after commit (registered by the app)."""
    auto_top_up_wallet.enqueue(wallet_id)
