"""Ledger entries in the admin: read-only, always (SPEC section 3: entries are never
updated or deleted; a mistake is corrected by a new, opposite entry)."""

from django.contrib import admin
from django.utils import timezone

from ..models import LedgerEntry
from ..selectors import entry_reference
from .display import LedgerAdminMedia, ReadOnlyAdminMixin, money_cell
from .pages import AdminLookMixin


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AdminLookMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "posted_on",
        "account_name",
        "kind",
        "reference_display",
        "description",
        "debit_display",
        "credit_display",
        "balance_after_display",
    )
    list_filter = ("kind",)
    search_fields = ("reference",)
    list_select_related = ("account",)
    ordering = ("-pk",)
    show_full_result_count = False  # no COUNT(*) over millions of rows for a search
    list_per_page = 50
    readonly_fields = (
        "account",
        "seq",
        "posted_at",
        "kind",
        "reference",
        "description",
        "method",
        "currency",
        "debit",
        "credit",
        "balance_after",
        "invoice",
        "source_type",
        "source_id",
        "actor",
        "actor_label",
    )
    fields = readonly_fields
    Media = LedgerAdminMedia

    @admin.display(description="posted", ordering="posted_at")
    def posted_on(self, obj):
        return timezone.localtime(obj.posted_at).strftime("%d %b %Y %H:%M")

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return obj.account.name

    @admin.display(description="reference", ordering="reference")
    def reference_display(self, obj):
        return entry_reference(obj)

    @admin.display(description="debit", ordering="debit")
    def debit_display(self, obj):
        return money_cell(obj.debit) if obj.debit.amount else ""

    @admin.display(description="credit", ordering="credit")
    def credit_display(self, obj):
        return money_cell(obj.credit) if obj.credit.amount else ""

    @admin.display(description="balance after")
    def balance_after_display(self, obj):
        return money_cell(obj.balance_after)
