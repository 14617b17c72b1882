"""The API's renderers for the outbox (``events.rendering``), registered at start-up by
``ApiConfig.ready``: an event's payload shows each object exactly as ``GET`` of it
answers — the same serializer on the same queryset, through the same JSON renderer —
read inside the operation's transaction, so the operation's own writes are in it."""

import json

from rest_framework.renderers import JSONRenderer

from events import rendering


def _renderer(serializer_class, queryset):
    def render(obj) -> dict:
        fresh = queryset.get(pk=obj.pk)
        return json.loads(JSONRenderer().render(serializer_class(fresh).data))

    return render


def register_all() -> None:
    from billing_site.api.invoice_serializers import InvoiceSerializer
    from billing_site.api.payment_serializers import PaymentSerializer
    from billing_site.api.wallet_serializers import CreditMemoSerializer, WalletSerializer
    from ledger.models import Invoice
    from payments.models import Payment
    from wallets.models import CreditMemo, Wallet

    rendering.register(
        Invoice, _renderer(InvoiceSerializer, Invoice.objects.prefetch_related("lines"))
    )
    rendering.register(Payment, _renderer(PaymentSerializer, Payment.objects.all()))
    rendering.register(Wallet, _renderer(WalletSerializer, Wallet.objects.all()))
    rendering.register(CreditMemo, _renderer(CreditMemoSerializer, CreditMemo.objects.all()))
