"""Invoice shapes on the wire: lines, invoices, draft creation, header edits, issue
inputs, line changes and payment links. Money is ``{"amount": "75.00", "currency"}``.

The rules of the values (series, quantity, unit price) are the ledger's
(``ledger.validation``): the schema patterns are built from its constants, the series
is checked with its function here, and quantities and prices by the service, which
names the line (``lines[0].quantity``) and answers before or after its state checks
exactly as it always has.
"""

from decimal import Decimal

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_site.api.accounts import VisiblePrimaryKey
from billing_site.api.fields import MoneyField, check_currency
from ledger import validation
from ledger.errors import BillingError
from ledger.models import Account, Invoice, InvoiceLine, InvoiceStatus


@extend_schema_field({"type": "string", "pattern": validation.QUANTITY_PATTERN})
class DecimalString(serializers.Field):
    """A decimal as a string (or an integer); floats are refused. Its range and places
    are the quantity rules of ``ledger.validation``, applied by the service."""

    def to_representation(self, value):
        return format(Decimal(value).normalize(), "f")

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise serializers.ValidationError('must be a string such as "1.5".')
        return str(data)


class SeriesField(serializers.RegexField):
    """A numbering series, checked and upper-cased by ``ledger.validation.clean_series``
    (a refusal in the ledger's words). A ``RegexField`` on the same pattern only so that
    the schema documents it; what ``clean_series`` lets through always matches."""

    def __init__(self, **kwargs):
        super().__init__(validation.SERIES_PATTERN, **kwargs)

    def to_internal_value(self, data):
        try:
            return validation.clean_series(
                super().to_internal_value(data), field=self.field_name or "series"
            )
        except BillingError as exc:
            raise serializers.ValidationError(validation.message(exc), code=exc.code) from None


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
            "period_start",
            "period_end",
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
    series = SeriesField(required=False, default="INV")
    is_prepaid_order = serializers.BooleanField(required=False, default=False)
    ongoing = serializers.BooleanField(
        required=False, default=False, help_text="Open it as ongoing (follows consumption)."
    )
    period_start = serializers.DateField(
        required=False, allow_null=True, help_text="First day of the billing period."
    )
    period_end = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Last day of the billing period: the billing run issues the ongoing "
        "invoice once it has passed.",
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
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)


class InvoiceFilter(filters.FilterSet):
    issue_date = filters.DateFromToRangeFilter()
    due_date = filters.DateFromToRangeFilter()
    status = filters.ChoiceFilter(choices=InvoiceStatus.choices)

    class Meta:
        model = Invoice
        fields = ("account", "status", "series", "number", "is_prepaid_order")


class IssueInput(serializers.Serializer):
    due_date = serializers.DateField(required=False, allow_null=True)


class LineChange(serializers.Serializer):
    description = serializers.CharField(max_length=255, required=False)
    quantity = DecimalString(required=False)
    unit_price = MoneyField(required=False)


class PaymentLinkInput(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=90)


class PaymentLinkOutput(serializers.Serializer):
    invoice = serializers.IntegerField()
    url = serializers.URLField(help_text="Send it to the member; it is the credential.")
    state = serializers.ChoiceField(choices=["sent", "opened", "paid", "expired"])
    expires_at = serializers.DateTimeField()
