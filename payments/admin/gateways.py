"""Gateway events (read-only, for inspection), payment links with their state, and the
sandbox's queued events with a "deliver now" button in DEBUG."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from ledger.admin.display import ReadOnlyAdminMixin

from ..models import GatewayEvent, PaymentLink, SandboxEvent
from ..services import link_token


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
