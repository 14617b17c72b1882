"""The payments app's jobs (django-tasks, README "Jobs"): the scheduled work that the
cron commands also run, enqueued at their interval by ``manage.py schedule_jobs`` and
executed by ``manage.py db_worker``. Each returns a JSON-ready count."""

from django.conf import settings
from django_tasks import task

from payments.services import expire_due_payments
from payments.services.gateway_calls import recover_unsent
from payments.services.webhooks import retry_pending


@task()
def expire_payments(batch: int = 200) -> int:
    """``manage.py expire_payments``: waiting postpay payments past their due date."""
    return expire_due_payments(batch=batch)


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
