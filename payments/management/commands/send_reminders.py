from datetime import date

from django.core.management.base import BaseCommand, CommandError

from payments.services.dunning import send_due_reminders


class Command(BaseCommand):
    help = (
        "Send the dunning reminders due today (each level once per invoice; docs/RULES.md "
        "'Dunning reminders') and retry the reminder emails that failed or were not sent. "
        "Safe to run from cron on several hosts at once (FOR NO KEY UPDATE SKIP LOCKED)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="The day to run as, YYYY-MM-DD (default: today); for catching up or testing.",
        )
        parser.add_argument("--batch", type=int, default=200)

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(
                    f"--today: {options['today']!r} is not a date (YYYY-MM-DD)."
                ) from None
        if options["batch"] < 1:
            raise CommandError("--batch: at least 1.")
        counts = send_due_reminders(today=today, batch=options["batch"])
        self.stdout.write(
            "send_reminders: {queued} reminder(s) decided, {sent} email(s) sent, "
            "{failed} failed, {skipped} skipped.".format(**counts)
        )
