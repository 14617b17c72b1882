"""Wallet records in the admin: the append-only transaction log and the prepayment
credit memos (both read-only), and the pieces the wallet page uses — the action forms
and the active holds inline. The wallet admin itself is registered by ``payments``:
its top-up is a payment and applying money shrinks the invoice's waiting payment.
"""

from django import forms
from django.contrib import admin
from django.utils import timezone

from ledger.admin.display import ReadOnlyAdminMixin, money_cell
from ledger.admin.pages import AdminLookMixin
from ledger.forms import AmountField
from ledger.models import Invoice, InvoiceStatus
from ledger.models.invoices import WALLET_PAYABLE
from ledger.money import format_money

from .models import CreditMemo, Hold, HoldStatus, WalletTransaction


def _invoice_choice(invoice: Invoice) -> str:
    if invoice.status == InvoiceStatus.ONGOING:
        return f"{invoice} — ongoing, {format_money(invoice.total)} so far (a hold follows it)"
    return f"{invoice} — {format_money(invoice.amount_due)} due"


class AmountForm(forms.Form):
    amount = AmountField()
    reference = forms.CharField(required=False, max_length=100)


class ApplyForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    amount = AmountField(
        required=False,
        help_text="Leave empty for the lesser of what is due and what is available "
        "(for an ongoing invoice: hold its whole current amount).",
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            self.fields["invoice"].queryset = Invoice.objects.filter(
                account_id=obj.account_id,
                status__in=WALLET_PAYABLE,
            ).order_by("due_date", "id")
            self.fields["invoice"].label_from_instance = _invoice_choice


class HoldInline(admin.TabularInline):
    model = Hold
    fields = ("invoice", "status", "amount_display", "requested", "created_at", "closed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        active = super().get_queryset(request).filter(status=HoldStatus.ACTIVE)
        return active.select_related("invoice")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="held")
    def amount_display(self, obj):
        return money_cell(obj.amount)


@admin.register(WalletTransaction)
class WalletTransactionAdmin(AdminLookMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "at_display",
        "wallet_name",
        "kind",
        "amount_display",
        "available_display",
        "reference",
        "invoice",
    )
    list_filter = ("kind",)
    search_fields = ("reference", "wallet__name")
    list_select_related = ("wallet", "wallet__account", "invoice")
    show_full_result_count = False

    @admin.display(description="when", ordering="at")
    def at_display(self, obj):
        return timezone.localtime(obj.at).strftime("%d %b %Y %H:%M")

    @admin.display(description="wallet", ordering="wallet__name")
    def wallet_name(self, obj):
        return f"{obj.wallet.name} · {obj.wallet.account.name}"

    @admin.display(description="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    @admin.display(description="available after")
    def available_display(self, obj):
        return money_cell(obj.available_after)


@admin.register(CreditMemo)
class CreditMemoAdmin(AdminLookMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Prepayment memos are final: read-only here, never cancelled."""

    list_display = ("number", "account_name", "invoice", "line", "wallet_name", "amount_display")
    list_filter = ("reason", "status")
    search_fields = ("number", "invoice__number", "account__name")
    list_select_related = ("account", "invoice", "invoice_line", "wallet__account")

    @admin.display(description="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return obj.account.name

    @admin.display(description="wallet")
    def wallet_name(self, obj):
        return obj.wallet.name if obj.wallet_id else "—"

    @admin.display(description="invoice line")
    def line(self, obj):
        return obj.invoice_line.description
