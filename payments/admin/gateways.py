"""Gateway events (read-only, with *Retry* for one that has not taken effect), the
outbound gateway calls, payment links with their state, and the sandbox's queued events
with a "deliver now" button in DEBUG."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from ledger.admin.display import ReadOnlyAdminMixin

from ..models import GatewayCall, GatewayEvent, PaymentLink, SandboxEvent
from ..services import link_token
from ..services.webhooks import PENDING, retry_event

# Retrying an event can complete a payment: the permission of recording money.
RETRY_PERMISSION = "payments.mark_paid"


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(GatewayEvent)
class GatewayEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "gateway",
        "event_id",
        "type",
        "payment",
        "status",
        "deliveries",
        "detail",
    )
    list_filter = ("gateway", "status", "type")
    search_fields = ("event_id", "payment_reference", "payment__number")
    list_select_related = ("payment",)
    actions = ("retry_events",)
    change_form_template = "admin/payments/gatewayevent/change_form.html"

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)

    @admin.action(description="Retry the selected events", permissions=["retry"])
    def retry_events(self, request, queryset):
        self._report(request, [retry_event(pk) for pk in queryset.values_list("pk", flat=True)])

    def _report(self, request, records) -> None:
        for record in records:
            level = messages.SUCCESS if record.status not in PENDING else messages.WARNING
            detail = f" — {record.detail}" if record.detail else ""
            self.message_user(request, f"{record.event_id}: {record.status}{detail}", level)

    def get_urls(self):
        retry = path(
            "<int:object_id>/retry/",
            self.admin_site.admin_view(self.retry_view),
            name="payments_gatewayevent_retry",
        )
        return [retry, *super().get_urls()]

    def retry_view(self, request, object_id):
        """Process one stored event again (POST, with the permission to record money)."""
        if request.method != "POST":
            raise PermissionDenied("By POST only.")
        if not self.has_retry_permission(request):
            raise PermissionDenied("You are not allowed to retry gateway events.")
        self._report(request, [retry_event(int(object_id))])
        return HttpResponseRedirect(reverse("admin:payments_gatewayevent_change", args=[object_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        record = self.get_object(request, object_id)
        can_retry = bool(record and record.status in PENDING and self.has_retry_permission(request))
        extra = {"can_retry": can_retry, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)


@admin.register(GatewayCall)
class GatewayCallAdmin(ReadOnlyAdmin):
    """Every outbound call to a gateway: what was asked, when, and how it went."""

    list_display = (
        "created_at",
        "gateway",
        "kind",
        "payment",
        "status",
        "reference",
        "attempts",
        "error",
        "finished_at",
    )
    list_filter = ("gateway", "kind", "status")
    search_fields = ("payment__number", "reference")
    list_select_related = ("payment",)


@admin.register(PaymentLink)
class PaymentLinkAdmin(ReadOnlyAdmin):
    list_display = (
        "invoice",
        "account",
        "state",
        "created_at",
        "opened_at",
        "paid_at",
        "expires_at",
    )
    search_fields = ("invoice__number", "account__name")
    list_select_related = ("invoice", "account")
    readonly_fields = (
        "invoice",
        "account",
        "state",
        "url",
        "created_at",
        "opened_at",
        "paid_at",
        "expires_at",
        "payment",
        "created_by",
    )
    fields = readonly_fields

    @admin.display(description="state")
    def state(self, obj):
        return obj.state

    @admin.display(description="link")
    def url(self, obj):
        href = reverse("payment-link", args=[link_token(obj)])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', href, href)


@admin.register(SandboxEvent)
class SandboxEventAdmin(ReadOnlyAdmin):
    list_display = (
        "due_at",
        "gateway",
        "event_type",
        "reference",
        "delivered_at",
        "response_status",
    )
    list_filter = ("gateway", "delivered_at")
    change_list_template = "admin/payments/sandboxevent/change_list.html"

    @admin.display(description="type")
    def event_type(self, obj):
        return obj.body.get("type")

    @admin.display(description="payment reference")
    def reference(self, obj):
        return obj.body.get("payment_reference")

    def get_urls(self):
        return [
            path(
                "deliver/",
                self.admin_site.admin_view(self.deliver_view),
                name="payments_sandboxevent_deliver",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_deliver": settings.DEBUG, **(extra_context or {})}
        return super().changelist_view(request, extra)

    def deliver_view(self, request):
        """DEBUG only: deliver every queued sandbox event now (fast-forward the demo)."""
        if request.method != "POST" or not settings.DEBUG:
            raise PermissionDenied("Only in DEBUG, by POST.")
        if not request.user.has_perm("payments.mark_paid"):
            raise PermissionDenied
        from ..management.commands.deliver_sandbox_events import deliver

        done = deliver(everything=True)
        self.message_user(request, f"{len(done)} sandbox event(s) delivered.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:payments_sandboxevent_changelist"))
