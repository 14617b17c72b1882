"""The wallet admin: balances, active holds, recent movements with their running
balances, and the staff actions — top up (a ``top_up`` payment credited when it
completes), grant, apply to an invoice (shrinking its waiting payment), transfer to
account credit, close. Registered here, once: top-up and apply are payments' use cases.
"""

from django.contrib import admin

from ledger.admin.display import LedgerAdminMedia, money_cell
from ledger.admin_actions import ObjectAction, ObjectActionsMixin, optional_amount
from ledger.services import user_actor
from wallets import services as wallets
from wallets.admin import AmountForm, ApplyForm, HoldInline
from wallets.models import Wallet, WalletTransaction

from .. import services

RECENT = 25


def _active(wallet, user) -> bool:
    return wallet.is_active


def _has_money(wallet, user) -> bool:
    return wallet.is_active and wallet.available.amount > 0


WALLET_ACTIONS = {
    "top_up": ObjectAction(
        label="Top up",
        permission="wallets.top_up_wallet",
        form=AmountForm,
        run=lambda w, a, d: services.request_wallet_top_up(
            wallet=w.pk, amount=str(d["amount"]), actor=a
        ),
        done="Top-up requested for wallet '{name}': it is credited when the payment completes.",
        offered=_active,
    ),
    "grant": ObjectAction(
        label="Grant",
        permission="wallets.grant_wallet",
        form=AmountForm,
        run=lambda w, a, d: wallets.top_up(
            wallet=w.pk,
            amount=str(d["amount"]),
            actor=a,
            grant=True,
            reference=d.get("reference", ""),
        ),
        done="Granted: wallet '{name}' updated.",
        offered=_active,
    ),
    "transfer": ObjectAction(
        label="Transfer to account credit",
        permission="wallets.transfer_wallet",
        form=AmountForm,
        run=lambda w, a, d: wallets.transfer_to_credit(
            wallet=w.pk, amount=str(d["amount"]), actor=a
        ),
        done="Moved to account credit from wallet '{name}'.",
        offered=_has_money,
    ),
    "close": ObjectAction(
        label="Close",
        permission="wallets.close_wallet",
        run=lambda w, a, d: wallets.close_wallet(wallet=w.pk, actor=a),
        done="Wallet '{name}' closed.",
        offered=_active,
    ),
    "apply": ObjectAction(
        label="Apply to invoice",
        permission="wallets.apply_wallet",
        form=ApplyForm,
        form_needs_object=True,
        run=lambda w, a, d: services.apply_wallet(
            wallet=w.pk, invoice=d["invoice"].pk, amount=optional_amount(d), actor=a
        ),
        done="Wallet '{name}' applied.",
        offered=_has_money,
    ),
}


@admin.register(Wallet)
class WalletAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_actions = WALLET_ACTIONS
    change_form_template = "admin/wallets/wallet/change_form.html"
    list_display = (
        "name",
        "account",
        "status",
        "total_display",
        "consumed_display",
        "held_display",
        "available_display",
    )
    list_filter = ("status", "currency")
    search_fields = ("name", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    inlines = (HoldInline,)
    Media = LedgerAdminMedia

    @admin.display(description="total")
    def total_display(self, obj):
        return money_cell(obj.total)

    @admin.display(description="consumed")
    def consumed_display(self, obj):
        return money_cell(obj.consumed)

    @admin.display(description="held")
    def held_display(self, obj):
        return money_cell(obj.held)

    @admin.display(description="available")
    def available_display(self, obj):
        return money_cell(obj.available)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", "name")
        return (
            "account",
            "name",
            "status",
            "total_display",
            "consumed_display",
            "held_display",
            "available_display",
            "created_at",
            "closed_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        wallet = wallets.create_wallet(
            account=form.cleaned_data["account"],
            name=form.cleaned_data["name"],
            actor=user_actor(request.user),
        )
        obj.pk = wallet.pk
        obj._state.adding = False

    def has_change_permission(self, request, obj=None):
        """Balances move only through the actions; the page itself is read-only."""
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        recent = list(
            WalletTransaction.objects.filter(wallet_id=object_id)
            .select_related("invoice")
            .order_by("-seq")[:RECENT]
        )
        extra = {"recent_transactions": recent, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)
