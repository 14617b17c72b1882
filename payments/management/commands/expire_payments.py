from django.core.management.base import BaseCommand

from payments.services import expire_due_payments


class Command(BaseCommand):
    help = (
        "Expire every waiting postpay payment past its due date. Safe to run every minute "
        "from cron on several hosts at once (FOR UPDATE SKIP LOCKED)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=200)

    def handle(self, *args, **options):
        count = expire_due_payments(batch=options["batch"])
        self.stdout.write(f"expire_payments: {count} payment(s) expired.")
