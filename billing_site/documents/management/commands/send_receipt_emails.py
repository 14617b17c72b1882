from django.core.management.base import BaseCommand

from billing_site.documents.models import DeliveryStatus
from billing_site.documents.receipts import deliver_waiting


class Command(BaseCommand):
    help = "Send every pending or failed receipt email (safe to run from cron, repeatedly)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args, limit, **options):
        done = deliver_waiting(limit=limit)
        sent = sum(1 for d in done if d.status == DeliveryStatus.SENT)
        failed = len(done) - sent
        self.stdout.write(f"send_receipt_emails: {sent} sent, {failed} failed")
