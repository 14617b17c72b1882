"""Wallet admin: balances, recent movements with their running balances, and the
staff actions (top-up, grant, apply to invoice, transfer to credit, close).

Actions that also touch payments (a top-up is a payment; applying money shrinks the
invoice's waiting payment) are supplied by the payments app, which registers this
admin with its own ``run`` functions (``wallets`` never imports ``payments``).
"""

from django import forms
from django.contrib import admin

from ledger.admin.display import LedgerAdminMedia, ReadOnlyAdminMixin, money_cell
from ledger.admin_actions import ObjectAction, ObjectActionsMixin
from ledger.models import Invoice, InvoiceStatus

from . import services
from .models import CreditMemo, Hold, HoldStatus, Wallet, WalletTransaction

RECENT = 25


class AmountForm(forms.Form):
    amount = forms.DecimalField(min_value=0)
    reference = forms.CharField(required=False, max_length=100)


class ApplyForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        help_text="Leave empty for the lesser of what is due and what is available "
        "(for an ongoing invoice: hold its whole current amount).",
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            self.fields["invoice"].queryset = Invoice.objects.filter(
                account_id=obj.account_id,
                status__in=[
                    InvoiceStatus.ONGOING,
                    InvoiceStatus.DUE,
                    InvoiceStatus.PARTIALLY_PAID,
                    InvoiceStatus.DISPUTED,
                ],
            ).order_by("due_date", "id")


def _amount(data):
    value = data.get("amount")
    return None if value in (None, "") else str(value)


def wallet_actions(*, top_up=None, apply=None) -> dict[str, ObjectAction]:
    """The wallet actions; ``top_up``/``apply`` are the use cases of a higher app."""
    active = lambda w, user: w.is_active  # noqa: E731
    actions = {
        "grant": ObjectAction(
            label="Grant",
            permission="wallets.grant_wallet",
            form=AmountForm,
            run=lambda w, a, d: services.top_up(
                wallet=w.pk,
                amount=str(d["amount"]),
                actor=a,
                grant=True,
                reference=d.get("reference", ""),
            ),
            done="Granted: wallet '{name}' updated.",
            offered=active,
        ),
        "transfer": ObjectAction(
            label="Transfer to account credit",
            permission="wallets.transfer_wallet",
            form=AmountForm,
            run=lambda w, a, d: services.transfer_to_credit(
                wallet=w.pk, amount=str(d["amount"]), actor=a
            ),
            done="Moved to account credit from wallet '{name}'.",
            offered=lambda w, user: w.is_active and w.available.amount > 0,
        ),
        "close": ObjectAction(
            label="Close",
            permission="wallets.close_wallet",
            run=lambda w, a, d: services.close_wallet(wallet=w.pk, actor=a),
            done="Wallet '{name}' closed.",
            offered=lambda w, user: w.is_active,
        ),
        "apply": ObjectAction(
            label="Apply to invoice",
            permission="wallets.apply_wallet",
            form=ApplyForm,
            form_needs_object=True,
            run=apply
            or (
                lambda w, a, d: services.apply_to_invoice(
                    wallet=w.pk, invoice=d["invoice"].pk, amount=_amount(d), actor=a
                )
            ),
            done="Wallet '{name}' applied.",
            offered=lambda w, user: w.is_active and w.available.amount > 0,
        ),
    }
    if top_up is not None:
        actions["top_up"] = ObjectAction(
            label="Top up",
            permission="wallets.top_up_wallet",
            form=AmountForm,
            run=top_up,
            done="Top-up requested for wallet '{name}': it is credited when the payment completes.",
            offered=active,
        )
    return actions


class HoldInline(admin.TabularInline):
    model = Hold
    fields = ("invoice", "status", "amount_display", "requested", "created_at", "closed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=HoldStatus.ACTIVE)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="held")
    def amount_display(self, obj):
        return money_cell(obj.amount)


@admin.register(Wallet)
class WalletAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_actions = wallet_actions()
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
        from ledger.services import user_actor

        wallet = services.create_wallet(
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


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "wallet",
        "seq",
        "at",
        "kind",
        "amount_display",
        "available_display",
        "reference",
        "invoice",
        "actor_label",
    )
    list_filter = ("kind",)
    search_fields = ("reference", "wallet__name")
    list_select_related = ("wallet", "wallet__account", "invoice")
    show_full_result_count = False

    @admin.display(description="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    @admin.display(description="available after")
    def available_display(self, obj):
        return money_cell(obj.available_after)


@admin.register(CreditMemo)
class CreditMemoAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Prepayment memos are final: read-only here, never cancelled."""

    list_display = ("number", "account", "invoice", "line", "wallet", "amount_display", "status")
    list_filter = ("reason", "status")
    search_fields = ("number", "invoice__number", "account__name")
    list_select_related = ("account", "invoice", "invoice_line", "wallet")

    @admin.display(description="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    @admin.display(description="invoice line")
    def line(self, obj):
        return obj.invoice_line.description
