"""The wallet admin: balances, active holds (with the invoices holding them), the top-up
payments still waiting for their money, recent movements with their running balances,
and the staff actions — top up (a ``top_up`` payment credited when it completes), grant,
apply to a chosen invoice (shrinking its waiting payment), record usage, release a hold,
transfer to account credit, close. Every action's form shows the wallet's figures first.
Registered here, once: top-up and apply are payments' use cases.
"""

from django import forms
from django.contrib import admin

from ledger.admin.display import LedgerAdminMedia, money_cell
from ledger.admin_actions import ObjectAction, ObjectActionsMixin, optional_amount
from ledger.forms import AmountField
from ledger.money import format_money
from ledger.services import user_actor
from wallets import services as wallets
from wallets.admin import AmountForm, ApplyForm, HoldInline
from wallets.models import Hold, HoldStatus, Wallet, WalletTransaction

from .. import services
from ..models import Payment
from ..models.payments import MANUAL_METHODS
from ..selectors.overview import below_threshold, holding
from .forms import method_choices
from .wallet_rules import RULE_ACTIONS

RECENT = 25


def _active(wallet, user) -> bool:
    return wallet.is_active


def _has_money(wallet, user) -> bool:
    return wallet.is_active and wallet.available.amount > 0


def _holds(wallet) -> bool:
    return wallet.held.amount > 0


def wallet_figures(w: Wallet) -> list[tuple[str, object]]:
    return [
        ("Wallet", f"{w.name} — {w.account.name}, {w.currency}"),
        ("Total", w.total),
        ("Consumed", w.consumed),
        ("Held", w.held),
        ("Available", w.available),
    ]


class TopUpForm(forms.Form):
    amount = AmountField()
    method = forms.ChoiceField(
        required=False,
        choices=[("", "Chosen when the money arrives"), *method_choices(MANUAL_METHODS)],
    )


class UsageForm(forms.Form):
    amount = AmountField()
    reference = forms.CharField(
        max_length=100, help_text="The usage's own reference (meter, period): a repeat is refused."
    )
    description = forms.CharField(required=False, max_length=255)


class ReleaseHoldForm(forms.Form):
    hold = forms.ModelChoiceField(queryset=Hold.objects.none(), label="Hold to release")

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            holds = Hold.objects.filter(wallet=obj, status=HoldStatus.ACTIVE).select_related(
                "invoice"
            )
            self.fields["hold"].queryset = holds
            self.fields["hold"].label_from_instance = lambda h: (
                f"{format_money(h.amount)} held for invoice {h.invoice}"
            )


def _action(label, permission, run, done, *, form=None, offered=_active, **extra):
    return ObjectAction(
        label=label,
        permission=permission,
        run=run,
        done=done,
        form=form,
        offered=offered,
        context=wallet_figures,
        **extra,
    )


WALLET_ACTIONS = {
    "top_up": _action(
        "Top up",
        "wallets.top_up_wallet",
        lambda w, a, d: services.request_wallet_top_up(
            wallet=w.pk, amount=str(d["amount"]), actor=a, method=d.get("method") or ""
        ),
        "Top-up requested for wallet '{name}': it is credited when the payment completes.",
        form=TopUpForm,
        help="A top-up is a payment waiting for its money (a transfer, cash, a direct "
        "debit): mark it as paid on its page and the wallet is credited.",
    ),
    "grant": _action(
        "Grant",
        "wallets.grant_wallet",
        lambda w, a, d: wallets.top_up(
            wallet=w.pk,
            amount=str(d["amount"]),
            actor=a,
            grant=True,
            reference=d.get("reference", ""),
        ),
        "Granted: wallet '{name}' updated.",
        form=AmountForm,
        help="Money given without a payment (a promotion, a goodwill gesture).",
    ),
    "apply": _action(
        "Apply to invoice",
        "wallets.apply_wallet",
        lambda w, a, d: services.apply_wallet(
            wallet=w.pk, invoice=d["invoice"].pk, amount=optional_amount(d), actor=a
        ),
        "Wallet '{name}' applied.",
        form=ApplyForm,
        form_needs_object=True,
        offered=_has_money,
        help="On an issued invoice: a drawdown and a prepayment credit memo now. On an "
        "ongoing invoice: a hold that follows the invoice until it is issued.",
    ),
    "usage": _action(
        "Record usage",
        "wallets.apply_wallet",
        lambda w, a, d: wallets.usage_drawdown(
            wallet=w.pk,
            amount=str(d["amount"]),
            reference=d["reference"],
            description=d.get("description", ""),
            actor=a,
        ),
        "Usage drawn from wallet '{name}'.",
        form=UsageForm,
        offered=_has_money,
        help="A usage charge drawn now; refused whole if it is more than is available.",
    ),
    "release_hold": _action(
        "Release a hold",
        "wallets.apply_wallet",
        lambda w, a, d: wallets.release_hold(hold=d["hold"].pk, actor=a),
        "Hold released: wallet '{name}' has the money available again.",
        form=ReleaseHoldForm,
        form_needs_object=True,
        offered=lambda w, user: _holds(w),
    ),
    "transfer": _action(
        "Transfer to account credit",
        "wallets.transfer_wallet",
        lambda w, a, d: wallets.transfer_to_credit(wallet=w.pk, amount=str(d["amount"]), actor=a),
        "Moved to account credit from wallet '{name}'.",
        form=AmountForm,
        offered=_has_money,
        help="The money leaves the wallet and becomes account credit that never expires "
        "(CRED +); it pays the account's invoices.",
    ),
    "close": _action(
        "Close",
        "wallets.close_wallet",
        lambda w, a, d: wallets.close_wallet(wallet=w.pk, actor=a),
        "Wallet '{name}' closed.",
        offered=lambda w, user: w.is_active and not w.available.amount and not w.held.amount,
        help="Only a wallet with nothing available or held can be closed.",
    ),
}
WALLET_ACTIONS.update(RULE_ACTIONS)


class BelowThresholdFilter(admin.SimpleListFilter):
    title = "low balance"
    parameter_name = "below_threshold"

    def lookups(self, request, model_admin):
        return (("1", "Available below the low-balance threshold"),)

    def queryset(self, request, queryset):
        return below_threshold(queryset) if self.value() == "1" else queryset


class HoldingFilter(admin.SimpleListFilter):
    title = "holds"
    parameter_name = "holding"

    def lookups(self, request, model_admin):
        return (("1", "Holding money for ongoing invoices"),)

    def queryset(self, request, queryset):
        return holding(queryset) if self.value() == "1" else queryset


@admin.register(Wallet)
class WalletAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_actions = WALLET_ACTIONS
    change_form_template = "admin/wallets/wallet/change_form.html"
    list_display = (
        "name",
        "account_name",
        "status",
        "total_display",
        "consumed_display",
        "held_display",
        "available_display",
    )
    list_filter = ("status", BelowThresholdFilter, HoldingFilter, "currency")
    search_fields = ("name", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    inlines = (HoldInline,)
    Media = LedgerAdminMedia

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return obj.account.name

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
        # Its balances are the figures at the top of the page.
        return ("account", "name", "status", "created_at", "closed_at")

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
        top_ups = list(
            Payment.objects.filter(wallet_id=object_id, direction="incoming")
            .order_by("-created_at", "-id")
            .only("id", "number", "status", "amount", "currency", "method", "created_at")[:10]
        )
        extra = {"recent_transactions": recent, "top_ups": top_ups, **(extra_context or {})}
        wallet = self.get_object(request, object_id)
        if wallet is not None:
            extra["figures"] = wallet_figures(wallet)
        return super().change_view(request, object_id, form_url, extra)
