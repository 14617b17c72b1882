"""Group payments in the admin: the record of each (its payments, one per account) and
the page that records one for an account group, linked from the group's page."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from ledger.admin.display import LedgerAdminMedia, ReadOnlyAdminMixin, money_cell
from ledger.admin.pages import AdminLookMixin

from ..models import Payment, PaymentBatch
from .record import group_payment_view


class BatchPaymentInline(admin.TabularInline):
    model = Payment
    fk_name = "batch"
    fields = ("number_link", "account", "type", "status", "amount_display", "allocated_display")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "payments, one per account"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    @admin.display(description="payment")
    def number_link(self, obj):
        url = reverse("admin:payments_payment_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.number)

    @admin.display(description="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    @admin.display(description="applied to invoices")
    def allocated_display(self, obj):
        return money_cell(obj.amount_allocated)


@admin.register(PaymentBatch)
class PaymentBatchAdmin(AdminLookMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Record of group payments; a new one is recorded from the group's page."""

    list_display = ("created_at", "group", "amount_display", "method", "reference", "actor_label")
    list_filter = ("method", "currency")
    search_fields = ("group__name", "reference")
    list_select_related = ("group",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("group", "amount_display", "method", "reference", "created_at", "actor_label")
    readonly_fields = fields
    inlines = (BatchPaymentInline,)
    Media = LedgerAdminMedia

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    def lookup_allowed(self, lookup, value, request=None):
        # The group's page links to its group payments (?group__id__exact=<id>).
        return lookup == "group__id__exact" or super().lookup_allowed(lookup, value, request)

    def get_urls(self):
        record = path(
            "record/",
            self.admin_site.admin_view(self.record_view),
            name="payments_paymentbatch_record",
        )
        return [record, *super().get_urls()]

    def record_view(self, request):
        return group_payment_view(self, request)
