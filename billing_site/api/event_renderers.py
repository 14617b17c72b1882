"""The API's renderers for the outbox (``events.rendering``), registered at start-up by
``ApiConfig.ready``: an event's payload shows each object exactly as ``GET`` of it
answers — the same serializer on the object as its row stands inside the operation's
transaction (so the operation's own writes are in it), made JSON-ready by the API's JSON
encoder (what ``JSONRenderer`` writes, read back).

Cheap, because ``emit`` runs inside every posting: one serializer instance per class
renders every object (``to_representation``; DRF would otherwise build its fields again
for each instance); the row is read by ``events.snapshot`` (one prepared statement on
PostgreSQL, built as the ORM builds it) with its related rows prefetched as the API's
queryset prefetches them.
"""

import json
import threading

from django.db.models import prefetch_related_objects
from rest_framework.utils.encoders import JSONEncoder

from events import rendering, snapshot


class Renderer:
    """Render one model's instances as ``serializer_class`` does."""

    def __init__(self, serializer_class, model, *, prefetch: tuple[str, ...] = ()):
        self.serializer_class = serializer_class
        self.model = model
        self.prefetch = prefetch
        self._serializer = None
        self._lock = threading.Lock()

    def serializer(self):
        """One instance per class, its fields built once (they hold no per-object state)."""
        if self._serializer is None:
            with self._lock:
                if self._serializer is None:
                    serializer = self.serializer_class()
                    serializer.fields  # noqa: B018 - built here, once
                    self._serializer = serializer
        return self._serializer

    def render_instance(self, instance) -> dict:
        if self.prefetch:
            prefetch_related_objects([instance], *self.prefetch)
        data = self.serializer().to_representation(instance)
        return json.loads(json.dumps(data, cls=JSONEncoder, allow_nan=False))

    def __call__(self, obj) -> dict:
        return self.render_instance(snapshot.of(self.model).read(obj.pk))


def register_all() -> None:
    from billing_site.api.dunning import ReminderSerializer
    from billing_site.api.invoice_serializers import InvoiceSerializer
    from billing_site.api.payment_serializers import PaymentSerializer
    from billing_site.api.wallet_serializers import CreditMemoSerializer, WalletSerializer
    from ledger.models import Invoice
    from payments.models import Payment, Reminder
    from wallets.models import CreditMemo, Wallet

    rendering.register(Invoice, Renderer(InvoiceSerializer, Invoice, prefetch=("lines",)))
    rendering.register(Payment, Renderer(PaymentSerializer, Payment))
    rendering.register(Wallet, Renderer(WalletSerializer, Wallet))
    rendering.register(CreditMemo, Renderer(CreditMemoSerializer, CreditMemo))
    rendering.register(Reminder, Renderer(ReminderSerializer, Reminder))
