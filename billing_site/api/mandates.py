"""Direct-debit mandates over the API (issue 14): an account's mandates
(``GET/POST /accounts/{id}/mandates/``, on ``AccountViewSet`` through
:class:`AccountMandatesMixin`) and each mandate (``/mandates/``, ``revoke/``). The IBAN
is written once, handed to the gateway, and only ever read back masked. Thin: parse,
call the service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from billing_site.api.base import ApiViewSet
from billing_site.api.models import ApiScope
from billing_site.api.pagination import page_of, paginate
from payments import selectors, services
from payments.models import Mandate


class MandateSerializer(serializers.ModelSerializer):
    iban = serializers.CharField(
        source="iban_masked", read_only=True, help_text="Masked: only the last four shown."
    )
    created_by = serializers.CharField(source="created_by_label", read_only=True)
    revoked_by = serializers.CharField(source="revoked_by_label", read_only=True)

    class Meta:
        model = Mandate
        fields = (
            "id",
            "account",
            "reference",
            "signed_on",
            "iban",
            "status",
            "gateway",
            "created_at",
            "created_by",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        )
        read_only_fields = fields


class MandateCreate(serializers.Serializer):
    reference = serializers.CharField(max_length=35, help_text="The mandate reference (UMR).")
    signed_on = serializers.DateField(help_text="The day the member signed it.")
    iban = serializers.CharField(
        max_length=42,
        write_only=True,
        help_text="Handed to the gateway, which keeps it; never stored or shown in full.",
    )


class RevokeInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


MandatePage = page_of(MandateSerializer, "MandatePage")


class AccountMandatesMixin:
    """``mandates/`` on an account: list (read) and create (scope ``payments``)."""

    @extend_schema(operation_id="accounts_mandates_list", responses=MandatePage, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def mandates(self, request, pk=None):
        """The account's direct-debit mandates, newest first (at most one active)."""
        return paginate(self, selectors.mandates_of(self.get_object()), MandateSerializer)

    @extend_schema(request=MandateCreate, responses={201: MandateSerializer}, filters=False)
    @mandates.mapping.post
    def create_mandate(self, request, pk=None):
        """Record the member's signed mandate (scope ``payments``); direct debits of the
        account use it by default. 409 while another mandate is active (revoke it first),
        422 for a bad IBAN, reference or date."""
        account = self.get_object()
        data = self.input(MandateCreate)
        mandate = services.create_mandate(
            account=account.pk,
            reference=data["reference"],
            signed_on=data["signed_on"],
            iban=data["iban"],
            actor=self.actor,
        )
        return self.output(mandate, MandateSerializer, status=201)


@extend_schema(tags=["accounts"])
class MandateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Direct-debit mandates; the IBAN shows only its last four characters."""

    queryset = Mandate.objects.order_by("-created_at", "-id")
    serializer_class = MandateSerializer
    filterset_fields = ("account", "status")
    write_scope = ApiScope.PAYMENTS

    @extend_schema(request=RevokeInput, responses=MandateSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Stop using the mandate (kept, ``revoked``); 409 if it already was."""
        mandate = self.get_object()
        data = self.input(RevokeInput)
        done = services.revoke_mandate(
            mandate=mandate, actor=self.actor, reason=data.get("reason", "")
        )
        return self.output(done)
