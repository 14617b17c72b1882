"""Invoices: read, create a draft with its lines, edit a draft's header, open it as
ongoing. Actions that involve payments or wallets (issue, cancel, mark paid, refund,
line changes that wallet holds follow) are added by ``payments.api``."""

from decimal import Decimal

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from .. import services
from ..models import Account, Invoice, InvoiceLine, InvoiceStatus
from ..services import LineSpec
from .accounts import VisiblePrimaryKey
from .base import ApiViewSet
from .fields import MoneyField, check_currency


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{1,11}(\.[0-9]{1,4})?$"})
class DecimalString(serializers.Field):
    """A decimal as a string (or an integer); floats are refused."""

    def to_representation(self, value):
        return format(Decimal(value).normalize(), "f")

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise serializers.ValidationError('must be a string such as "1.5".')
        return str(data)


class LineSerializer(serializers.ModelSerializer):
    quantity = DecimalString()
    unit_price = MoneyField()
    amount = MoneyField(read_only=True)
    prepaid_amount = MoneyField(read_only=True)

    class Meta:
        model = InvoiceLine
        fields = (
            "id",
            "position",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "prepaid_amount",
        )
        read_only_fields = ("id", "position")


class InvoiceSerializer(serializers.ModelSerializer):
    total = MoneyField(read_only=True)
    amount_paid = MoneyField(read_only=True)
    amount_credited = MoneyField(read_only=True, help_text="Covered by wallet credit memos.")
    amount_refunded = MoneyField(read_only=True)
    amount_due = MoneyField(read_only=True)
    lines = LineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = (
            "id",
            "account",
            "number",
            "series",
            "status",
            "description",
            "is_prepaid_order",
            "currency",
            "total",
            "amount_paid",
            "amount_credited",
            "amount_refunded",
            "amount_due",
            "issue_date",
            "due_date",
            "issued_at",
            "cancelled_at",
            "cancel_reason",
            "created_at",
            "lines",
        )
        read_only_fields = fields


class LineInput(serializers.Serializer):
    description = serializers.CharField(max_length=255)
    quantity = DecimalString()
    unit_price = MoneyField()


class InvoiceCreate(serializers.Serializer):
    account = VisiblePrimaryKey(queryset=Account.objects.all(), account_path="pk")
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    series = serializers.RegexField(r"^[A-Za-z0-9]{1,16}$", required=False, default="INV")
    is_prepaid_order = serializers.BooleanField(required=False, default=False)
    ongoing = serializers.BooleanField(
        required=False, default=False, help_text="Open it as ongoing (follows consumption)."
    )
    lines = LineInput(many=True, required=False, max_length=500)

    def validate(self, attrs):
        currency = attrs["account"].currency
        for i, line in enumerate(attrs.get("lines", [])):
            check_currency(line["unit_price"], currency, f"lines[{i}].unit_price")
        return attrs


class InvoiceHeader(serializers.Serializer):
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False, allow_null=True)


class InvoiceFilter(filters.FilterSet):
    issue_date = filters.DateFromToRangeFilter()
    due_date = filters.DateFromToRangeFilter()
    status = filters.ChoiceFilter(choices=InvoiceStatus.choices)

    class Meta:
        model = Invoice
        fields = ("account", "status", "series", "number", "is_prepaid_order")


@extend_schema(tags=["invoices"])
class InvoiceBaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Invoice.objects.prefetch_related("lines").order_by("-id")
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter

    def locked(self, invoice) -> Invoice:
        return Invoice.objects.prefetch_related("lines").get(pk=invoice.pk)

    @extend_schema(request=InvoiceCreate, responses={201: InvoiceSerializer})
    def create(self, request):
        """Create a draft invoice with its lines (``ongoing: true`` opens it at once)."""
        data = self.input(InvoiceCreate)
        lines = [
            LineSpec(x["description"], x["quantity"], x["unit_price"])
            for x in data.get("lines", [])
        ]
        invoice = services.create_invoice(
            account=data["account"],
            actor=self.actor,
            lines=lines,
            due_date=data.get("due_date"),
            description=data.get("description", ""),
            series=data["series"],
            is_prepaid_order=data["is_prepaid_order"],
        )
        if data["ongoing"]:
            invoice = services.open_invoice(invoice=invoice, actor=self.actor)
        return self.output(self.locked(invoice), status=201)

    @extend_schema(request=InvoiceHeader, responses=InvoiceSerializer)
    def partial_update(self, request, pk=None):
        """Edit a draft or ongoing invoice's description and due date."""
        invoice = self.get_object()
        data = self.input(InvoiceHeader)
        changes = {
            name: (value if value is not None or name == "due_date" else "")
            for name, value in data.items()
        }
        locked = services.update_invoice(invoice=invoice.pk, actor=self.actor, **changes)
        return self.output(self.locked(locked))

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """draft → ongoing: the invoice follows consumption until it is issued."""
        invoice = services.open_invoice(invoice=self.get_object(), actor=self.actor)
        return self.output(self.locked(invoice))
