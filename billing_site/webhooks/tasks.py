"""The webhooks' jobs (django-tasks, README "Jobs"), periodic through ``schedule_jobs``
(``billing_site.jobs.periodic``): fan out pending events, then deliver what is due."""

from django_tasks import task

from .delivery import deliver_due
from .fanout import fan_out_all


@task()
def fan_out_events() -> int:
    """Pending outbox events → one delivery per matching endpoint; then deliver them."""
    made = fan_out_all()
    deliver_due()
    return made


@task()
def deliver_webhooks() -> int:
    """Every due delivery (first tries and retries): the number of attempts made."""
    return deliver_due()
