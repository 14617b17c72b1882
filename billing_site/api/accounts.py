"""Accounts and account groups.

Accounts: list, read, create (``services.create_account``), edit the plain fields the
admin edits (never balance or sequence; the currency only while nothing was posted),
delete only while nothing was posted or invoiced, and read an account's whole position
(``position/``), its direct-debit mandates (``mandates/``) and a check of its ledger
against its entries (``verification/``). Groups: list, read,
create, and record a payment for the whole group (``payments/``: split over its
accounts' open invoices, oldest due first).
"""

from django.conf import settings
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action

from billing_site.api.account_serializers import (
    GroupPaymentInput,
    GroupPaymentResult,
    PositionSerializer,
    VerificationSerializer,
)
from billing_site.api.base import ApiViewSet
from billing_site.api.dunning import AccountDunningMixin
from billing_site.api.fields import MoneyField
from billing_site.api.mandates import AccountMandatesMixin
from billing_site.api.models import ApiScope
from billing_site.api.permissions import is_restricted, restrict, restrict_groups
from billing_site.api.statements import StatementMixin
from ledger import services
from ledger.errors import InvalidInput
from ledger.models import Account, AccountGroup
from ledger.verification import verify_one
from payments import selectors as payment_selectors
from payments import services as payment_services


class VisiblePrimaryKey(serializers.PrimaryKeyRelatedField):
    """A reference in a request body to an object the caller may see. Absent and
    not-yours give the same answer."""

    default_error_messages = {
        "does_not_exist": "{pk_value} not found.",
        "incorrect_type": "expected an integer id, got {data_type}.",
    }

    def __init__(self, *, account_path: str = "account", **kwargs):
        self.account_path = account_path
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if self.account_path == "group":
            return restrict_groups(request, super().get_queryset())
        return restrict(request, super().get_queryset(), self.account_path)

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, int) and not 0 < data < 2**63):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class GroupSerializer(serializers.ModelSerializer):
    admin_account = VisiblePrimaryKey(
        queryset=Account.objects.all(), account_path="pk", required=False, allow_null=True
    )

    class Meta:
        model = AccountGroup
        fields = ("id", "name", "admin_account", "created_at")
        read_only_fields = ("id", "created_at")
        extra_kwargs = {"name": {"validators": []}}


class AccountSerializer(serializers.ModelSerializer):
    balance = MoneyField(read_only=True)
    group = VisiblePrimaryKey(
        queryset=AccountGroup.objects.all(),
        account_path="group",
        required=False,
        allow_null=True,
    )
    currency = serializers.ChoiceField(choices=list(settings.CURRENCIES))

    class Meta:
        model = Account
        read_only_fields = ("id", "balance", "last_seq", "last_posted_at", "created_at")
        fields = (read_only_fields[0], *services.EDITABLE_FIELDS, *read_only_fields[1:])
        extra_kwargs = {
            "external_ref": {"validators": [], "allow_null": True},
            "payment_terms_days": {"max_value": 3650},
        }

    def validate_external_ref(self, value):
        value = value or None
        if value:
            others = Account.objects.filter(external_ref=value)
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise serializers.ValidationError(
                    f"another account already has external reference {value!r}."
                )
        return value


class AccountFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Account
        fields = ("currency", "external_ref", "group", "is_active", "erp_managed")


EDITABLE = services.EDITABLE_FIELDS


@extend_schema(tags=["accounts"])
class AccountViewSet(
    AccountDunningMixin,
    AccountMandatesMixin,
    StatementMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Billable members. Balance = credits − debits (positive: in credit)."""

    queryset = Account.objects.select_related("group").order_by("-id")
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    account_path = "pk"
    write_scope = ApiScope.WRITE
    scopes = {"create_mandate": ApiScope.PAYMENTS}

    def perform_create(self, serializer):
        data = serializer.validated_data
        group = data.get("group")
        if is_restricted(self.request) and group is None:
            raise serializers.ValidationError(
                {
                    "group": "this key is restricted to some accounts: new accounts must go in "
                    "one of its groups."
                }
            )
        serializer.instance = services.create_account(
            name=data["name"],
            email=data["email"],
            currency=data["currency"],
            actor=self.actor,
            external_ref=data.get("external_ref"),
            group=group,
            erp_managed=data.get("erp_managed", False),
            payment_terms_days=data.get("payment_terms_days", 14),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.update_account(
            account=serializer.instance.pk,
            actor=self.actor,
            **{name: data[name] for name in EDITABLE if name in data},
        )

    def perform_destroy(self, instance):
        services.delete_account(account=instance.pk, actor=self.actor)

    @extend_schema(responses=PositionSerializer, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def position(self, request, pk=None):
        """The account's whole position: ledger balance, free credit, owed and overdue
        per open invoice, each wallet's total / consumed / held / available with the
        invoices holding it, and the top-ups still waiting for their money."""
        position = payment_selectors.account_position(self.get_object())
        return self.output(position, PositionSerializer)

    @extend_schema(responses=VerificationSerializer, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def verification(self, request, pk=None):
        """Verify the account's ledger now, read-only, as ``manage.py verify_ledger``
        does nightly (its default rule: entries written outside the posting service are
        not failed for lacking a hash chain): seq without gap, each running balance, the
        balance, the currency, the hash chain (the first broken entry named) and each
        invoice's total against its lines."""
        return self.output(verify_one(self.get_object()), VerificationSerializer)


@extend_schema(tags=["accounts"])
class AccountGroupViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet
):
    """Account groups: statements and group-level payments span their accounts."""

    queryset = AccountGroup.objects.order_by("-id")
    serializer_class = GroupSerializer
    filterset_fields = ("name",)
    scopes = {"payments": ApiScope.PAYMENTS}

    def get_queryset(self):
        return restrict_groups(self.request, self.queryset)

    def perform_create(self, serializer):
        if is_restricted(self.request):
            raise exceptions.PermissionDenied(
                "This API key is restricted to some accounts: it cannot create groups."
            )
        data = serializer.validated_data
        if AccountGroup.objects.filter(name=data["name"].strip()).exists():
            raise serializers.ValidationError({"name": "a group with this name exists."})
        serializer.instance = services.create_group(
            name=data["name"], actor=self.actor, admin_account=data.get("admin_account")
        )

    @extend_schema(request=GroupPaymentInput, responses={201: GroupPaymentResult})
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        """Record money received for the whole group (scope ``payments``): it pays the
        open invoices of the group's accounts, oldest due first (invoices waiting for an
        ERP's approval skipped), one payment and one ``PAYM`` entry per account; what is
        left stays as credit on ``leftover_account``. Refused (422) for a group whose
        accounts use more than one currency or an amount that is not positive. Send an
        ``Idempotency-Key``: a retry returns the first result and records nothing."""
        group = self.get_object()
        accounts = list(group.accounts.values_list("pk", "currency"))
        if is_restricted(request):
            hidden = {pk for pk, _c in accounts} - set(request._billfold_visible)
            if hidden:
                raise exceptions.PermissionDenied(
                    "This API key does not cover every account of the group."
                )
        currencies = {c for _pk, c in accounts}
        data = self.input(
            GroupPaymentInput, **({"currency": currencies.pop()} if len(currencies) == 1 else {})
        )
        if data["leftover_account"] not in {pk for pk, _c in accounts}:
            raise InvalidInput(
                f"leftover_account: account {data['leftover_account']} is not in group {group}.",
                field="leftover_account",
            )
        batch = payment_services.record_group_payment(
            group=group.pk,
            amount=str(data["amount"].amount),
            method=data["method"],
            actor=self.actor,
            leftover_account=data["leftover_account"],
            reference=data.get("reference", ""),
            at=data.get("received_at"),
        )
        batch.ordered_payments = list(
            batch.payments.order_by("account_id", "id").prefetch_related("allocations__invoice")
        )
        return self.output(batch, GroupPaymentResult, status=201)
