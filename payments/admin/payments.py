"""Payment admin: read-only records, the allowed actions as buttons, the history.

``PaymentAdmin`` is registered by the documents layer (``billing_site.documents.admin``),
which adds what needs documents: the receipt PDF and *send receipt* (the email carries
it). Everything else about a payment is here, beside the services it calls."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ledger.admin.display import LedgerAdminMedia, ReadOnlyAdminMixin, money_cell, status_badge
from ledger.admin.pages import AdminLookMixin
from ledger.admin_actions import ObjectActionsMixin

from ..models import GatewayCall, Payment, PaymentAllocation, PaymentStatus, PaymentTransition
from ..selectors import status_label, transition_label
from ..selectors.timeline import TRANSITION_WORDS
from .actions import PAYMENT_ACTIONS
from .expire import expire_due_view, may_expire
from .payment_page import PaymentPageMixin
from .record import record_payment_view


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransitionInline(ReadOnlyInline):
    model = PaymentTransition
    fields = ("at", "name", "source", "target", "actor_label", "reason")
    readonly_fields = fields
    verbose_name_plural = "status history"


class AllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fk_name = "payment"
    fields = ("invoice", "amount_display", "reversed_by", "created_at", "actor_label")
    readonly_fields = fields

    @admin.display(description="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)


class GatewayCallInline(ReadOnlyInline):
    model = GatewayCall
    fields = ("created_at", "kind", "status", "reference", "attempts", "error", "finished_at")
    readonly_fields = fields
    verbose_name_plural = "gateway calls"


def refunds_owed(payment: Payment) -> list[Payment]:
    """Refunds of the payment that the gateway failed: money still owed to the member."""
    return list(
        payment.refunds.filter(status=PaymentStatus.WAITING_FOR_PAYMENT).order_by("created_at")
    )


class PaymentAdmin(PaymentPageMixin, ObjectActionsMixin, admin.ModelAdmin):
    object_actions = PAYMENT_ACTIONS
    action_template = "admin/payments/payment/action_form.html"
    list_display = (
        "number",
        "account",
        "type",
        "direction",
        "method",
        "status_badge",
        "amount_display",
        "due_date",
        "invoice",
        "created_at",
    )
    list_filter = ("status", "type", "method", "direction", "account__currency")
    search_fields = ("number", "account__name", "reference", "invoice__number")
    list_select_related = ("account", "invoice")
    date_hierarchy = "created_at"
    inlines = (AllocationInline, TransitionInline, GatewayCallInline)
    show_full_result_count = False
    readonly_fields = (
        "number",
        "account",
        "direction",
        "type",
        "method",
        "status",
        "amount_display",
        "allocated_display",
        "reversed_display",
        "refund_pending_display",
        "refunds_owed_display",
        "due_date",
        "invoice",
        "refund_of",
        "dispute_of",
        "return_of",
        "batch",
        "reference",
        "note",
        "decline_reason",
        "gateway",
        "gateway_reference",
        "receipt_number",
        "receipt_created_at",
        "receipt_sent_at",
        "receipt_sent_to",
        "created_at",
        "completed_at",
        "created_by",
    )
    fields = readonly_fields
    Media = LedgerAdminMedia

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj):
        return money_cell(obj.amount)

    @admin.display(description="allocated to invoices")
    def allocated_display(self, obj):
        return money_cell(obj.amount_allocated)

    @admin.display(description="refunded, disputed or returned")
    def reversed_display(self, obj):
        return money_cell(obj.amount_reversed)

    @admin.display(description="being refunded at the gateway")
    def refund_pending_display(self, obj):
        return money_cell(obj.refund_pending)

    @admin.display(description="refunds the gateway failed (still owed to the member)")
    def refunds_owed_display(self, obj):
        owed = refunds_owed(obj)
        if not owed:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a>: {} — {}',
            (
                (
                    reverse("admin:payments_payment_change", args=[r.pk]),
                    r.number,
                    money_cell(r.amount),
                    r.decline_reason or "failed",
                )
                for r in owed
            ),
        )

    # Payments are created by the services (issue, record payment), never edited.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("record/", wrap(self.record_view), name="payments_payment_record"),
            path(
                "expire-due/",
                wrap(self.expire_due_view),
                name="payments_payment_expire_due",
            ),
            *super().get_urls(),
        ]

    def expire_due_view(self, request):
        """*Expire overdue waiting payments now* (the list's button; POST only)."""
        return expire_due_view(self, request)

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "can_expire": may_expire(request.user)}
        return super().changelist_view(request, extra)

    def record_view(self, request):
        """Record money received without an invoice (the account's page links here)."""
        return record_payment_view(self, request)


class TransitionNameFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "name"

    def lookups(self, request, model_admin):
        return [(name, transition_label(name)) for name in TRANSITION_WORDS]

    def queryset(self, request, queryset):
        return queryset.filter(name=self.value()) if self.value() else queryset


class TransitionTargetFilter(admin.SimpleListFilter):
    title = "to status"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return PaymentStatus.choices

    def queryset(self, request, queryset):
        return queryset.filter(target=self.value()) if self.value() else queryset


@admin.register(PaymentTransition)
class PaymentTransitionAdmin(AdminLookMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The status log, in words: actions and statuses by their labels, never codes."""

    list_display = ("at_display", "payment", "action", "change", "reason")
    list_filter = (TransitionNameFilter, TransitionTargetFilter)
    search_fields = ("payment__number", "actor_label")
    list_select_related = ("payment",)
    date_hierarchy = "at"
    ordering = ("-at", "-id")
    show_full_result_count = False

    @admin.display(description="when", ordering="at")
    def at_display(self, obj):
        return timezone.localtime(obj.at).strftime("%d %b %Y %H:%M")

    @admin.display(description="action · by", ordering="name")
    def action(self, obj):
        return format_html(
            '{}<small class="billfold-sub">{}</small>', transition_label(obj.name), obj.actor_label
        )

    @admin.display(description="status")
    def change(self, obj):
        if not obj.source:
            return status_label(obj.target)
        return f"{status_label(obj.source)} → {status_label(obj.target)}"
