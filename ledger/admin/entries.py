"""Ledger entries in the admin: read-only, always (SPEC section 3: entries are never
updated or deleted; a mistake is corrected by a new, opposite entry)."""

from django.contrib import admin

from ..models import LedgerEntry
from .display import LedgerAdminMedia, ReadOnlyAdminMixin, money_cell


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "account",
        "seq",
        "posted_at",
        "kind",
        "reference",
        "description",
        "method",
        "debit_display",
        "credit_display",
        "balance_after_display",
        "actor_label",
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

    @admin.display(description="debit", ordering="debit")
    def debit_display(self, obj):
        return money_cell(obj.debit) if obj.debit.amount else ""

    @admin.display(description="credit", ordering="credit")
    def credit_display(self, obj):
        return money_cell(obj.credit) if obj.credit.amount else ""

    @admin.display(description="balance after")
    def balance_after_display(self, obj):
        return money_cell(obj.balance_after)
