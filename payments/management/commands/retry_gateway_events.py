"""Process again every stored gateway event that has not taken effect yet: its payment
was not known when it arrived (unknown_payment), it came out of order, or a business
rule refused it. Safe to run from cron: each event is locked while it is processed and
one that has taken effect is never applied twice.

First, gateway calls left unsent by a process that stopped after deciding them (over
ten minutes old) are dealt with: a refund is sent, a payment start fails and its
payment waits again (``gateway_calls.recover_unsent``).

manage.py retry_gateway_events
"""

from django.core.management.base import BaseCommand

from payments.services.gateway_calls import recover_unsent
from payments.services.webhooks import retry_pending


class Command(BaseCommand):
    help = "Retry every pending or failed stored gateway event."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="at most this many events")

    def handle(self, *args, **options):
        for call in recover_unsent():
            self.stdout.write(
                f"unsent {call.kind} call for payment {call.payment_id}: {call.status}"
            )
        done = retry_pending(limit=options["limit"])
        for record in done:
            self.stdout.write(f"{record.gateway}:{record.event_id} {record.type}: {record.status}")
        still = sum(1 for r in done if r.status in ("unknown_payment", "out_of_order", "failed"))
        self.stdout.write(
            f"retry_gateway_events: {len(done)} event(s) retried, {still} still pending."
        )
