"""Dunning reminders over the API (issue 15 item 4; docs/RULES.md *Dunning reminders*):
the reminder levels (``/reminder-levels/``: billing-admin settings like webhook
endpoints — scope ``admin``, unrestricted keys, for reads too), an invoice's reminders
and *send reminder now* (``/invoices/{id}/reminders/``, ``send-reminder/``, scope
``payments``) and an account's exclusion (``/accounts/{id}/dunning-exclusion/``, scope
``write``). Thin: parse, call ``payments.services.dunning``, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers
from rest_framework.decorators import action

from billing_site.api.auth import api_key_of
from billing_site.api.base import ApiViewSet
from billing_site.api.models import ApiScope
from billing_site.api.pagination import page_of, paginate
from billing_site.api.permissions import HasScope, is_restricted
from payments.models import DunningExclusion, Reminder, ReminderLevel
from payments.models.dunning import PLACEHOLDERS
from payments.services import dunning


class ReminderLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReminderLevel
        fields = (
            "id",
            "name",
            "offset_days",
            "subject",
            "body",
            "is_active",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ReminderLevelInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    offset_days = serializers.IntegerField(
        min_value=-365,
        max_value=365,
        help_text="Days from the due date: negative before it, positive after it.",
    )
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(
        help_text="Placeholders: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + "."
    )
    is_active = serializers.BooleanField(default=True)


class ReminderSerializer(serializers.ModelSerializer):
    level_name = serializers.CharField(source="level.name", read_only=True)
    created_by = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = Reminder
        fields = (
            "id",
            "invoice",
            "account",
            "level",
            "level_name",
            "status",
            "trigger",
            "created_by",
            "sent_to",
            "subject",
            "pay_url",
            "created_at",
            "sent_at",
            "attempts",
            "error",
        )
        read_only_fields = fields


class SendReminderInput(serializers.Serializer):
    level = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A reminder level's id; default: the next level due for the invoice.",
    )


class ExclusionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by_label", read_only=True)

    class Meta:
        model = DunningExclusion
        fields = ("account", "reason", "created_at", "created_by")
        read_only_fields = fields


class ExclusionInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Why the account gets no reminders.")


class IncludedSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    excluded = serializers.BooleanField()


ReminderPage = page_of(ReminderSerializer, "ReminderPage")


class UnrestrictedKeysOnly(permissions.BasePermission):
    message = (
        "Reminder levels are billing-admin settings: a key restricted to accounts or groups, "
        "or a member session, cannot use them."
    )

    def has_permission(self, request, view):
        return api_key_of(request) is not None and not is_restricted(request)


@extend_schema(tags=["reminders"])
class ReminderLevelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Dunning reminder levels: when each is sent (days from the due date) and its email."""

    queryset = ReminderLevel.objects.order_by("offset_days", "id")
    serializer_class = ReminderLevelSerializer
    filterset_fields = ("is_active",)
    permission_classes = [HasScope, UnrestrictedKeysOnly]
    scopes = dict.fromkeys(("list", "retrieve", "create"), ApiScope.ADMIN)

    def get_queryset(self):
        return self.queryset.all()  # not per account: settings

    @extend_schema(request=ReminderLevelInput, responses={201: ReminderLevelSerializer})
    def create(self, request):
        """Add a level (scope ``admin``). 422 naming the field: an unknown placeholder,
        an active level with the same days."""
        data = self.input(ReminderLevelInput)
        level = dunning.save_level(actor=self.actor, **data)
        return self.output(level, status=201)


class InvoiceRemindersMixin:
    """``reminders/`` and ``send-reminder/`` on an invoice."""

    @extend_schema(operation_id="invoices_reminders_list", responses=ReminderPage, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def reminders(self, request, pk=None):
        """The invoice's reminders, newest first: each level once (sent, failed, queued,
        or skipped with the reason)."""
        invoice = self.get_object()
        rows = Reminder.objects.filter(invoice=invoice).select_related("level")
        return paginate(self, rows, ReminderSerializer)

    @extend_schema(request=SendReminderInput, responses={201: ReminderSerializer}, filters=False)
    @action(detail=True, methods=["post"], url_path="send-reminder", filter_backends=[])
    def send_reminder(self, request, pk=None):
        """Send a reminder now (scope ``payments``); its email leaves after the answer's
        transaction commits (status ``queued`` here, ``sent`` or ``failed`` on the
        reminder). 409: the account is excluded, the invoice owes nothing or is disputed,
        the level was sent already (or a later one); 422: an unknown or inactive level."""
        invoice = self.get_object()
        data = self.input(SendReminderInput)
        reminder = dunning.send_reminder_now(
            invoice=invoice, level=data.get("level"), actor=self.actor
        )
        return self.output(reminder, ReminderSerializer, status=201)


class AccountDunningMixin:
    """``dunning-exclusion/`` on an account: exclude (POST) or include again (DELETE)."""

    @extend_schema(
        operation_id="accounts_dunning_exclusion_create",
        request=ExclusionInput,
        responses={201: ExclusionSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="dunning-exclusion", filter_backends=[])
    def dunning_exclusion(self, request, pk=None):
        """Exclude the account from reminders (the run's and staff's); 409 if it is."""
        account = self.get_object()
        data = self.input(ExclusionInput)
        exclusion = dunning.exclude_account(
            account=account.pk, reason=data["reason"], actor=self.actor
        )
        return self.output(exclusion, ExclusionSerializer, status=201)

    @extend_schema(
        operation_id="accounts_dunning_exclusion_destroy",
        request=None,
        responses={200: IncludedSerializer},
        filters=False,
    )
    @dunning_exclusion.mapping.delete
    def include_in_dunning(self, request, pk=None):
        """Include the account again (levels due meanwhile go with the next run); 409 if
        it is not excluded. Answers 200 with ``{"account": id, "excluded": false}``."""
        account = self.get_object()
        dunning.include_account(account=account.pk, actor=self.actor)
        return self.output({"account": account.pk, "excluded": False}, IncludedSerializer)
