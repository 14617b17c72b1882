from django.core.management.base import BaseCommand

from payments.services import announce_overdue_invoices


class Command(BaseCommand):
    help = (
        "Write the invoice.overdue event of every invoice past its due date with money "
        "owed, once per invoice. Safe to run from cron on several hosts at once (FOR "
        "UPDATE SKIP LOCKED)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200)

    def handle(self, *args, **options):
        count = announce_overdue_invoices(batch=options["batch"])
        self.stdout.write(f"announce_overdue: {count} invoice(s) announced overdue.")
