"""The wallet admin with the use cases that also touch payments: a top-up is a payment
that credits the wallet when it completes; applying money shrinks the invoice's
waiting payment."""

from django.contrib import admin

from wallets.admin import WalletAdmin, wallet_actions
from wallets.models import Wallet

from ..services import apply_wallet, request_wallet_top_up


def _amount(data):
    value = data.get("amount")
    return None if value in (None, "") else str(value)


class PaymentsWalletAdmin(WalletAdmin):
    object_actions = wallet_actions(
        top_up=lambda w, a, d: request_wallet_top_up(wallet=w.pk, amount=str(d["amount"]), actor=a),
        apply=lambda w, a, d: apply_wallet(
            wallet=w.pk, invoice=d["invoice"].pk, amount=_amount(d), actor=a
        ),
    )


admin.site.unregister(Wallet)
admin.site.register(Wallet, PaymentsWalletAdmin)
