"""Deliver the sandbox gateway's due events to the webhook code, as the gateway would.

manage.py deliver_sandbox_events          # everything due now
manage.py deliver_sandbox_events --all    # fast-forward: everything queued, in order
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from payments import gateways
from payments.models import SandboxEvent
from payments.services.webhooks import receive


def deliver(*, everything: bool = False) -> list[tuple[str, int]]:
    delivered = []
    while True:
        with transaction.atomic():
            due = SandboxEvent.objects.select_for_update(skip_locked=True, no_key=True).filter(
                delivered_at__isnull=True
            )
            if not everything:
                due = due.filter(due_at__lte=timezone.now())
            event = due.order_by("due_at", "id").first()
            if event is None:
                return delivered
            gateway = gateways.by_name(event.gateway)
            body, signature = gateway.signed_delivery(event.body)
            status, _answer = receive(event.gateway, body, signature)
            event.delivered_at = timezone.now()
            event.response_status = status
            event.save(update_fields=["delivered_at", "response_status"])
            delivered.append((event.body["type"], status))


class Command(BaseCommand):
    help = "Deliver due sandbox gateway events to the webhook processing (signed)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="deliver every queued event now")

    def handle(self, *args, **options):
        delivered = deliver(everything=options["all"])
        for kind, status in delivered:
            self.stdout.write(f"{kind}: {status}")
        self.stdout.write(f"deliver_sandbox_events: {len(delivered)} event(s) delivered.")
