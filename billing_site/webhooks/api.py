"""Webhook endpoints and deliveries over the API (``/webhook-endpoints/``,
``/webhook-deliveries/``): billing-admin settings, scope ``admin`` for every call, and
only for a key with no account restriction (an endpoint may receive every account's
events). The secret is in the create and rotate-secret responses only. Thin: parse,
call ``endpoints``/``delivery``, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_site.api.auth import api_key_of
from billing_site.api.base import ApiViewSet
from billing_site.api.models import ApiScope
from billing_site.api.permissions import HasScope, is_restricted
from events.models import EventType
from ledger.models import Account, AccountGroup

from . import delivery, endpoints
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

ALL_ACTIONS = (
    "list",
    "retrieve",
    "create",
    "partial_update",
    "destroy",
    "enable",
    "disable",
    "rotate_secret",
    "redeliver",
)
ADMIN_SCOPES = dict.fromkeys(ALL_ACTIONS, ApiScope.ADMIN)


class UnrestrictedKeyOnly(permissions.BasePermission):
    message = (
        "Webhooks are billing-admin settings: a key restricted to accounts or groups, "
        "or a member session, cannot use them."
    )

    def has_permission(self, request, view):
        return api_key_of(request) is not None and not is_restricted(request)


class EndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "url",
            "description",
            "all_events",
            "event_types",
            "accounts",
            "groups",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "auto_disabled",
            "failing_since",
            "created_at",
            "secret_rotated_at",
        )
        read_only_fields = fields


class EndpointWithSecret(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown in this response only: store it to verify signatures."
    )

    class Meta(EndpointSerializer.Meta):
        fields = (*EndpointSerializer.Meta.fields, "secret")
        read_only_fields = fields


class EndpointInput(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="https:// (http:// to 127.0.0.1: DEBUG)")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    all_events = serializers.BooleanField(required=False, default=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(EventType.choices), required=False, default=list
    )
    accounts = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Account.objects.all(), required=False, default=list
    )
    groups = serializers.PrimaryKeyRelatedField(
        many=True, queryset=AccountGroup.objects.all(), required=False, default=list
    )


class EndpointPatch(EndpointInput):
    url = serializers.CharField(max_length=500, required=False)
    all_events = serializers.BooleanField(required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(EventType.choices), required=False
    )
    accounts = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Account.objects.all(), required=False
    )
    groups = serializers.PrimaryKeyRelatedField(
        many=True, queryset=AccountGroup.objects.all(), required=False
    )


class DisableInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class AdminOnlyViewSet(ApiViewSet):
    permission_classes = [HasScope, UnrestrictedKeyOnly]
    scopes = ADMIN_SCOPES

    def get_queryset(self):
        return self.queryset.all()  # not per account: unrestricted keys only


@extend_schema(tags=["webhooks"])
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminOnlyViewSet):
    """Outgoing webhook endpoints (README "Outgoing webhooks")."""

    queryset = WebhookEndpoint.objects.prefetch_related("accounts", "groups").order_by("-id")
    serializer_class = EndpointSerializer
    filterset_fields = ("enabled",)

    @extend_schema(request=EndpointInput, responses={201: EndpointWithSecret})
    def create(self, request):
        """Add an endpoint; the response holds its signing ``secret``, shown only here."""
        data = self.input(EndpointInput)
        endpoint, _secret = endpoints.create_endpoint(**data)
        return self.output(endpoint, EndpointWithSecret, status=201)

    @extend_schema(request=EndpointPatch, responses=EndpointSerializer)
    def partial_update(self, request, pk=None):
        """Change the URL, event types, description or the account restriction."""
        endpoint = self.get_object()
        data = dict(self.input(EndpointPatch))
        restriction = {k: data.pop(k, None) for k in ("accounts", "groups")}
        return self.output(endpoints.update_endpoint(endpoint, **data, **restriction))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Remove the endpoint with its deliveries and attempts (disable to keep them)."""
        endpoints.delete_endpoint(self.get_object())
        return Response(status=204)

    @extend_schema(request=None, responses=EndpointSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        """Deliver again (its pending deliveries resume); 409 if it is enabled."""
        return self.output(endpoints.enable_endpoint(self.get_object()))

    @extend_schema(request=DisableInput, responses=EndpointSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        """Stop delivering (pending deliveries wait); 409 if it already is disabled."""
        endpoint = self.get_object()
        reason = self.input(DisableInput).get("reason") or f"disabled by {self.actor.label}"
        return self.output(endpoints.disable_endpoint(endpoint, reason=reason))

    @extend_schema(request=None, responses=EndpointWithSecret)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret (in this response only); later deliveries use it."""
        endpoint, _secret = endpoints.rotate_secret(self.get_object())
        return self.output(endpoint, EndpointWithSecret)


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = (
            "number",
            "round",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "response_excerpt",
            "succeeded",
        )
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type", read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event",
            "event_type",
            "endpoint",
            "status",
            "round",
            "attempts_count",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempts",
        )
        read_only_fields = fields


@extend_schema(tags=["webhooks"])
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, AdminOnlyViewSet):
    """One delivery per (event, endpoint), with every attempt."""

    queryset = WebhookDelivery.objects.select_related("event").prefetch_related("attempts")
    serializer_class = DeliverySerializer
    filterset_fields = ("endpoint", "status", "event")

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send it again now (a new round of retries if it was delivered or failed);
        409 while a send of it is in flight."""
        return self.output(delivery.redeliver(self.get_object()))
