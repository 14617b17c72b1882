from django.core.management.base import BaseCommand

from payments.services.auto_top_ups import monthly_auto_top_ups


class Command(BaseCommand):
    help = (
        "Open the monthly automatic top-ups whose day has come (each wallet once a month; "
        "what `schedule_jobs` runs every hour), for cron users."
    )

    def handle(self, *args, **options):
        count = monthly_auto_top_ups()
        self.stdout.write(f"monthly_auto_top_ups: {count} automatic top-up(s) opened.")
