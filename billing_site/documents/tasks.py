"""The documents' jobs (django-tasks): receipt emails waiting or failed, retried."""

from django_tasks import task

from billing_site.documents.receipts import deliver_waiting


@task()
def send_receipt_emails(limit: int = 100) -> int:
    """``manage.py send_receipt_emails``: send pending and failed receipt emails."""
    return len(deliver_waiting(limit=limit))
