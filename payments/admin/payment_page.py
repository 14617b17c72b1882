"""The payment list and page as finance staff read them: columns that fit 1366 px, due
and overdue filters, the figures of the payment at the top of its page, and its
timeline in words (status changes with their labels, entries, allocations, refunds,
gateway events) — also its *History* page."""

from django.contrib import admin
from django.forms.models import _get_foreign_key
from django.utils import timezone
from django.utils.html import format_html

from ..models import Payment, PaymentTransition
from ..models.payments import WAITING_STATUSES
from ..selectors import payment_timeline
from ..selectors.overview import received_this_month, stuck_processing
from .invoice_extras import DueDateFilter
from .payment_extras import figures
from .position import position_view
from .timelines import TimelineHistoryMixin


class PaymentOverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Still waiting after its due date"),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                status__in=WAITING_STATUSES, due_date__lt=timezone.localdate()
            ).exclude(status="processing")
        return queryset


class ReceivedFilter(admin.SimpleListFilter):
    """Money received this month (the finance overview's figure, the same rows)."""

    title = "money received"
    parameter_name = "received"

    def lookups(self, request, model_admin):
        return (("this-month", "This month (incoming, completed)"),)

    def queryset(self, request, queryset):
        if self.value() == "this-month":
            return received_this_month(queryset)
        return queryset


class StuckFilter(admin.SimpleListFilter):
    """Payments a gateway has been processing for over a day."""

    title = "stuck at a gateway"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return (("1", "Processing for over a day"),)

    def queryset(self, request, queryset):
        if self.value() == "1":
            return stuck_processing(queryset)
        return queryset


def kind_of(payment: Payment) -> str:
    if payment.refund_of_id:
        return "Refund"
    if payment.dispute_of_id:
        return "Dispute"
    if getattr(payment, "return_of_id", None):
        return "Direct-debit return"
    return payment.get_type_display()


FIELD_GROUPS = (
    (
        None,
        (
            "number",
            "account",
            "type",
            "direction",
            "method",
            "status",
            "amount_display",
            "invoice",
            "due_date",
            "reference",
            "note",
        ),
        (),
    ),
    (
        "Money moved",
        ("allocated_display", "reversed_display", "refund_pending_display", "refunds_owed_display"),
        (),
    ),
    (
        "Receipt",
        ("receipt_number", "receipt_created_at", "receipt_sent_at", "receipt_sent_to"),
        ("collapse",),
    ),
    ("Linked payments", ("refund_of", "dispute_of", "return_of", "batch"), ("collapse",)),
    ("Gateway", ("gateway", "gateway_reference", "decline_reason"), ("collapse",)),
    ("Record", ("created_at", "completed_at", "created_by"), ("collapse",)),
)


# A folded group opens on a payment that uses it.
OPENS = {"Receipt": "receipt_number", "Gateway": "gateway", "Linked payments": "batch_id"}


class PaymentPageMixin(TimelineHistoryMixin):
    timeline = staticmethod(payment_timeline)
    LIST = (
        "number",
        "account_name",
        "kind",
        "status_badge",
        "amount_display",
        "invoice",
        "due_on",
    )

    def get_urls(self):
        from django.urls import path

        position = path(
            "account/<int:account_id>/position/",
            self.admin_site.admin_view(self.position_view),
            name="payments_account_position",
        )
        return [position, *super().get_urls()]

    def position_view(self, request, account_id):
        return position_view(self, request, account_id)

    def get_list_display(self, request):
        return self.LIST

    def get_list_filter(self, request):
        return (
            "status",
            PaymentOverdueFilter,
            DueDateFilter,  # the invoices' due-date filter: the same field and words
            ReceivedFilter,
            StuckFilter,
            "type",
            "method",
            "direction",
            "account__currency",
        )

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return obj.account.name

    @admin.display(description="kind · method", ordering="type")
    def kind(self, obj):
        return format_html(
            '{}<small class="billfold-sub">{}</small>',
            kind_of(obj),
            obj.get_method_display() or "no method yet",
        )

    @admin.display(description="due", ordering="due_date")
    def due_on(self, obj):
        if obj.due_date is None:
            return "—"
        late = obj.status in WAITING_STATUSES and obj.due_date < timezone.localdate()
        if late and obj.status != "processing":
            return format_html(
                '{}<span class="billfold-overdue billfold-overdue-mark">overdue</span>',
                obj.due_date.strftime("%d %b %Y"),
            )
        return obj.due_date.strftime("%d %b %Y")

    @admin.display(description="created", ordering="created_at")
    def created_on(self, obj):
        return timezone.localtime(obj.created_at).strftime("%d %b %Y")

    def get_inlines(self, request, obj):
        """The status history is told by the timeline, with labels, not codes; a record
        table with nothing in it for this payment is left out (one query each)."""
        inlines = [i for i in super().get_inlines(request, obj) if i.model is not PaymentTransition]
        if obj is None:
            return inlines
        kept = []
        for inline in inlines:
            fk = _get_foreign_key(self.model, inline.model, fk_name=inline.fk_name)
            if inline.model._default_manager.filter(**{fk.name: obj}).exists():
                kept.append(inline)
        return kept

    def get_fieldsets(self, request, obj=None):
        """The payment first; money moved, links, receipt and gateway details folded."""
        fields = list(self.get_fields(request, obj))
        groups = []
        for title, names, classes in FIELD_GROUPS:
            present = [name for name in names if name in fields]
            if present:
                relevant = obj is not None and bool(getattr(obj, OPENS.get(title, ""), None))
                groups.append((title, {"fields": present, "classes": () if relevant else classes}))
        placed = {name for _t, names, _c in FIELD_GROUPS for name in names}
        rest = [name for name in fields if name not in placed]
        if rest:
            groups.append(("More", {"fields": rest, "classes": ("collapse",)}))
        return groups

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        payment = self.get_object(request, object_id)
        if payment is not None:
            extra["figures"] = figures(payment)
            extra["events"] = self.timeline(payment)
        return super().change_view(request, object_id, form_url, extra)
