"""For cron users: fan out pending events to webhook endpoints, then deliver what is
due (the jobs ``fan_out_events`` and ``deliver_webhooks`` do the same)."""

from django.core.management.base import BaseCommand

from billing_site.webhooks.delivery import deliver_due
from billing_site.webhooks.fanout import fan_out_all


class Command(BaseCommand):
    help = "Fan out pending events to webhook endpoints and deliver the due deliveries."

    def handle(self, *args, verbosity=1, **options):
        made = fan_out_all()
        attempts = deliver_due()
        if verbosity:
            self.stdout.write(f"deliver_webhooks: {made} new deliveries, {attempts} attempts")
