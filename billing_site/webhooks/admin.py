"""Webhooks in the admin (billing admins only, ``payments.roles``): endpoints under
Settings (the secret shown once, at creation and rotation; enable, disable), deliveries
and attempts under Records (read-only, *Redeliver*). Every write goes through
``endpoints`` and ``delivery``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from events.models import EventType
from ledger.admin.display import ReadOnlyAdminMixin
from ledger.admin.pages import AdminLookMixin
from ledger.errors import BillingError

from . import delivery, endpoints
from .fanout import restriction_annotation
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

REDELIVER_PERMISSION = "webhooks.change_webhookdelivery"


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="https://…")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What it receives; none and 'all events' off: nothing.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("description", "url", "all_events", "event_types", "accounts", "groups")

    def clean_url(self):
        try:
            return endpoints.clean_url(self.cleaned_data["url"])
        except BillingError as exc:
            raise ValidationError(exc.detail) from None


def _fields(form) -> dict:
    data = form.cleaned_data
    return {k: data[k] for k in ("url", "event_types", "all_events", "description")}


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AdminLookMixin, admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "description", "events_shown", "restricted", "state", "created_at")
    list_filter = ("enabled", "auto_disabled")
    search_fields = ("url", "description")
    readonly_fields = ("state", "failing_since", "created_at", "secret_rotated_at")
    filter_horizontal = ("accounts", "groups")
    actions = ("disable_selected", "enable_selected")
    change_form_template = "admin/webhooks/webhookendpoint/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(restricted=restriction_annotation())

    @admin.display(description="events")
    def events_shown(self, obj):
        return "all" if obj.all_events else (", ".join(obj.event_types) or "none")

    @admin.display(description="restricted", boolean=True)
    def restricted(self, obj):
        return obj.restricted

    @admin.display(description="state")
    def state(self, obj):
        if obj.enabled:
            return "enabled"
        badge = "failing: disabled automatically" if obj.auto_disabled else "disabled"
        return format_html(
            '<strong style="color:#ba2121">{}</strong> — {}', badge, obj.disabled_reason
        )

    def changelist_view(self, request, extra_context=None):
        for endpoint in WebhookEndpoint.objects.filter(auto_disabled=True):
            messages.warning(
                request,
                f"Webhook endpoint {endpoint.url} was disabled: {endpoint.disabled_reason} "
                "Fix the receiver, then enable it.",
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        restriction = {"accounts": list(data["accounts"]), "groups": list(data["groups"])}
        if change:
            endpoints.update_endpoint(obj.pk, **_fields(form), **restriction)
            return
        created, secret = endpoints.create_endpoint(**_fields(form), **restriction)
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
        messages.warning(
            request,
            f"Signing secret of {created.url}: {secret} — copy it now, it is shown only "
            "once. Verify the Billfold-Signature header with it (README, Outgoing webhooks).",
        )

    def save_related(self, request, form, formsets, change):
        pass  # the restriction was set by the service

    def get_urls(self):
        own = [
            path(
                f"<int:object_id>/{name}/",
                self.admin_site.admin_view(self.state_view),
                {"operation": name},
                name=f"webhooks_webhookendpoint_{name.replace('-', '_')}",
            )
            for name in ("enable", "disable", "rotate-secret")
        ]
        return own + super().get_urls()

    def state_view(self, request, object_id, operation):
        """Enable, disable or rotate the secret of one endpoint (POST)."""
        if request.method != "POST":
            raise PermissionDenied("By POST only.")
        if not self.has_change_permission(request):
            raise PermissionDenied("You are not allowed to change webhook endpoints.")
        try:
            if operation == "enable":
                endpoints.enable_endpoint(int(object_id))
                messages.success(request, "Endpoint enabled.")
            elif operation == "disable":
                reason = f"disabled by {request.user.get_username()}"
                endpoints.disable_endpoint(int(object_id), reason=reason)
                messages.success(request, "Endpoint disabled.")
            else:
                done, secret = endpoints.rotate_secret(int(object_id))
                messages.warning(
                    request, f"New signing secret of {done.url}: {secret} — shown only once."
                )
        except WebhookEndpoint.DoesNotExist:
            raise Http404("No such webhook endpoint.") from None
        except BillingError as exc:
            messages.error(request, exc.detail)
        return HttpResponseRedirect(
            reverse("admin:webhooks_webhookendpoint_change", args=[object_id])
        )

    @admin.action(description="Disable selected endpoints", permissions=["change"])
    def disable_selected(self, request, queryset):
        reason = f"disabled by {request.user.get_username()}"
        for pk in queryset.filter(enabled=True).values_list("pk", flat=True):
            endpoints.disable_endpoint(pk, reason=reason)
        messages.success(request, "Endpoints disabled.")

    @admin.action(description="Enable selected endpoints", permissions=["change"])
    def enable_selected(self, request, queryset):
        for pk in queryset.filter(enabled=False).values_list("pk", flat=True):
            endpoints.enable_endpoint(pk)
        messages.success(request, "Endpoints enabled.")


class AttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "round", "started_at", "duration_ms", "status_code", "error", "succeeded")
    readonly_fields = fields
    extra = 0
    ordering = ("number",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AdminLookMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "event_type",
        "event",
        "endpoint",
        "status",
        "attempts_count",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "endpoint", "event__type")
    search_fields = ("=event__id", "endpoint__url")
    list_select_related = ("event", "endpoint")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = (AttemptInline,)
    actions = ("redeliver_selected",)
    change_form_template = "admin/webhooks/webhookdelivery/change_form.html"

    @admin.display(description="type")
    def event_type(self, obj):
        return obj.event.type

    def has_redeliver_permission(self, request) -> bool:
        return request.user.has_perm(REDELIVER_PERMISSION)

    @admin.action(description="Redeliver the selected deliveries now", permissions=["redeliver"])
    def redeliver_selected(self, request, queryset):
        self._redeliver(request, queryset.values_list("pk", flat=True))

    def _redeliver(self, request, pks) -> None:
        for pk in pks:
            try:
                delivery.redeliver(pk)
                messages.success(request, f"Delivery {pk}: redelivery scheduled now.")
            except BillingError as exc:
                messages.error(request, f"Delivery {pk}: {exc.detail}")

    def get_urls(self):
        own = [
            path(
                "<int:object_id>/redeliver/",
                self.admin_site.admin_view(self.redeliver_view),
                name="webhooks_webhookdelivery_redeliver",
            ),
            path(
                "event/<uuid:event_id>/redeliver/",
                self.admin_site.admin_view(self.redeliver_event_view),
                name="webhooks_webhookdelivery_redeliver_event",
            ),
        ]
        return own + super().get_urls()

    def _check(self, request) -> None:
        if request.method != "POST":
            raise PermissionDenied("By POST only.")
        if not self.has_redeliver_permission(request):
            raise PermissionDenied("You are not allowed to redeliver webhooks.")

    def redeliver_view(self, request, object_id):
        """*Redeliver* on a delivery's page: a new attempt now."""
        self._check(request)
        if not WebhookDelivery.objects.filter(pk=object_id).exists():
            raise Http404("No such webhook delivery.")
        self._redeliver(request, [int(object_id)])
        return HttpResponseRedirect(
            reverse("admin:webhooks_webhookdelivery_change", args=[object_id])
        )

    def redeliver_event_view(self, request, event_id):
        """*Redeliver the event*: every endpoint's delivery of one event, now."""
        self._check(request)
        pks = list(WebhookDelivery.objects.filter(event_id=event_id).values_list("pk", flat=True))
        self._redeliver(request, pks)
        changelist = reverse("admin:webhooks_webhookdelivery_changelist")
        return HttpResponseRedirect(f"{changelist}?q={event_id}")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_redeliver": self.has_redeliver_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "delivery", "number", "status_code", "error", "duration_ms")
    list_filter = ("succeeded", "delivery__endpoint", "status_code")
    search_fields = ("=delivery__event__id",)
    list_select_related = ("delivery__event", "delivery__endpoint")
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]
