"""The period-close billing run in the admin (docs/RULES.md "Billing run"): the runs'
list (read-only, its counts annotated in the list's one query) with *Close billing
period*, each run's page (counts, amounts per currency, the progress while it runs, the
failures with their reasons, *Add a worker* / *Resume*), the runs' items (read-only,
filtered by run and status), and the Invoices list's filter for what the next run will
issue. The writes are ``billing_run_views``: ``start_run`` and the work task."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from ledger.admin.display import LedgerAdminMedia, money_cell, status_badge
from ledger.admin.pages import AdminLookMixin
from ledger.models import InvoiceStatus
from ledger.models.invoices import EDITABLE

from ..models import BillingRun, BillingRunItem, ItemStatus
from ..selectors.billing_runs import with_counts
from .billing_run_views import CloseForm, close_view, may_run, run_page_context, work_view

COUNTED = ("issued", "failed", "skipped", "pending")


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d %b %Y %H:%M") if value else "—"


def items_url(run_id: int, status: str | None = None) -> str:
    url = reverse("admin:payments_billingrunitem_changelist") + f"?run__id__exact={run_id}"
    return url + (f"&status__exact={status}" if status else "")


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingRun)
class BillingRunAdmin(AdminLookMixin, ReadOnly, admin.ModelAdmin):
    """The runs, newest first; each run's counts in the list's one query."""

    change_list_template = "admin/payments/billingrun/change_list.html"
    list_display = (
        "run_display",
        "through",
        "status_badge",
        "started",
        "finished",
        "started_by_display",
        *(f"{name}_count" for name in COUNTED),
    )
    list_filter = ("status",)
    list_display_links = ("run_display",)
    date_hierarchy = "started_at"
    show_full_result_count = False
    Media = LedgerAdminMedia

    def get_queryset(self, request):
        return with_counts(super().get_queryset(request))

    @admin.display(description="run", ordering="id")
    def run_display(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="started", ordering="started_at")
    def started(self, obj):
        return _when(obj.started_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, obj):
        return _when(obj.finished_at)

    @admin.display(description="by", ordering="actor_label")
    def started_by_display(self, obj):
        return obj.actor_label

    def _count(self, obj, status):
        n = getattr(obj, f"n_{status}", 0)
        if not n:
            return "0"
        return format_html('<a href="{}">{}</a>', items_url(obj.pk, status), f"{n:,}")

    @admin.display(description="issued", ordering="n_issued")
    def issued_count(self, obj):
        return self._count(obj, "issued")

    @admin.display(description="failed", ordering="n_failed")
    def failed_count(self, obj):
        return self._count(obj, "failed")

    @admin.display(description="skipped", ordering="n_skipped")
    def skipped_count(self, obj):
        return self._count(obj, "skipped")

    @admin.display(description="pending", ordering="n_pending")
    def pending_count(self, obj):
        return self._count(obj, "pending")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("close/", wrap(self.close_view), name="payments_billingrun_close"),
            path("<int:run_id>/work/", wrap(self.work_view), name="payments_billingrun_work"),
            *super().get_urls(),
        ]

    def close_view(self, request):
        """*Close billing period* (the list's button; its page shows a refused date)."""
        return close_view(self, request)

    def work_view(self, request, run_id):
        """*Add a worker* / *Resume* on a running run's page (POST only)."""
        return work_view(self, request, run_id)

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "may_run": may_run(request.user)}
        if extra["may_run"]:
            extra["close_form"] = CloseForm()
        return super().changelist_view(request, extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The run's page (read-only): what the run did and is doing."""
        run = self.get_object(request, object_id)
        if run is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, run):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("You are not allowed to see billing runs.")
        context = {
            **self.admin_site.each_context(request),
            **run_page_context(request, run),
            "opts": self.opts,
            "title": str(run),
            "failed_url": items_url(run.pk, ItemStatus.FAILED),
            "items_url": items_url(run.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/payments/billingrun/run_page.html", context)


@admin.register(BillingRunItem)
class BillingRunItemAdmin(AdminLookMixin, ReadOnly, admin.ModelAdmin):
    """Each invoice of each run and what became of it (read-only)."""

    list_display = (
        "invoice_link",
        "run_link",
        "account_name",
        "status",
        "reason",
        "total_display",
        "captured_display",
        "credit_display",
        "waiting_display",
        "direct_debit",
        "processed",
    )
    list_filter = ("status", "run", "direct_debit")
    list_select_related = ("invoice", "account")
    ordering = ("-run", "id")  # the latest run first, its items in the order queued
    search_fields = ("invoice__number", "account__name", "reason")
    show_full_result_count = False
    Media = LedgerAdminMedia

    @admin.display(description="invoice", ordering="invoice_id")
    def invoice_link(self, obj):
        url = reverse("admin:ledger_invoice_change", args=[obj.invoice_id])
        label = obj.invoice.number or f"#{obj.invoice_id} (no number yet)"
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="run", ordering="run_id")
    def run_link(self, obj):
        url = reverse("admin:payments_billingrun_change", args=[obj.run_id])
        return format_html('<a href="{}">#{}</a>', url, obj.run_id)

    @admin.display(description="account", ordering="account__name")
    def account_name(self, obj):
        return obj.account.name

    @admin.display(description="total")
    def total_display(self, obj):
        return money_cell(obj.total) if obj.status == ItemStatus.ISSUED else "—"

    @admin.display(description="holds captured")
    def captured_display(self, obj):
        return money_cell(obj.captured) if obj.status == ItemStatus.ISSUED else "—"

    @admin.display(description="credit applied")
    def credit_display(self, obj):
        return money_cell(obj.credit_applied) if obj.status == ItemStatus.ISSUED else "—"

    @admin.display(description="waiting")
    def waiting_display(self, obj):
        return money_cell(obj.waiting) if obj.status == ItemStatus.ISSUED else "—"

    @admin.display(description="processed", ordering="processed_at")
    def processed(self, obj):
        return _when(obj.processed_at)


class BillingPeriodFilter(admin.SimpleListFilter):
    """The Invoices list's *billing period*: ``ended`` is what the next billing run
    issues (ongoing, the period's last day passed); ``running`` still counts usage."""

    title = "billing period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [
            ("ended", "ended (waiting for the billing run)"),
            ("running", "running (ongoing, not ended)"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        ongoing = queryset.filter(status=InvoiceStatus.ONGOING, period_end__isnull=False)
        if self.value() == "ended":
            return ongoing.filter(period_end__lt=today)
        if self.value() == "running":
            return ongoing.filter(period_end__gte=today)
        return queryset


PERIOD_HELP = (
    "For an ongoing invoice: the billing run issues it once the period's last day has passed."
)


def period_fieldset(invoice):
    """The invoice page's *Billing period*: editable while draft or ongoing; on an issued
    invoice read-only, saying which billing run issued it (none: by hand); left out for
    an issued invoice that has no period."""
    fields = {"fields": (("period_start", "period_end"),)}
    if invoice is None or invoice.status in EDITABLE:
        return ("Billing period", {**fields, "description": PERIOD_HELP})
    if invoice.period_end is None:
        return None
    item = (
        BillingRunItem.objects.filter(invoice=invoice, status=ItemStatus.ISSUED)
        .select_related("run")
        .first()
    )
    if item is None:
        said = "Issued by hand, not by a billing run."
    else:
        url = reverse("admin:payments_billingrun_change", args=[item.run_id])
        said = format_html(
            'Issued by <a href="{}">{}</a> on {}.', url, item.run, _when(item.processed_at)
        )
    return ("Billing period", {**fields, "description": said})


__all__ = ["BillingPeriodFilter", "BillingRunAdmin", "BillingRunItemAdmin", "period_fieldset"]
