from django_filters import rest_framework as filters
from rest_framework import serializers

from billing_site.api.accounts import VisiblePrimaryKey
from billing_site.api.fields import MoneyField
from billing_site.api.invoice_serializers import InvoiceSerializer
from ledger.models import Account, Invoice
from payments.models import Mandate, Payment, PaymentMethod, PaymentStatus, PaymentType
from payments.models.payments import MANUAL_METHODS, RECEIPT_METHODS


class PaymentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="reference_code", read_only=True)
    payer_reference = serializers.CharField(source="reference", read_only=True)
    method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty until the money arrives (chosen when it is marked paid).",
    )
    amount = MoneyField(read_only=True)
    amount_allocated = MoneyField(read_only=True, help_text="Allocated to invoices.")
    amount_reversed = MoneyField(read_only=True, help_text="Refunded or disputed.")
    refund_pending = MoneyField(
        read_only=True,
        help_text="Refunds asked of the gateway and not yet confirmed: still the member's "
        "money until the gateway confirms (then in amount_reversed) or fails (back to 0).",
    )

    class Meta:
        model = Payment
        fields = (
            "id",
            "number",
            "reference",
            "account",
            "direction",
            "type",
            "method",
            "status",
            "currency",
            "amount",
            "amount_allocated",
            "amount_reversed",
            "refund_pending",
            "due_date",
            "invoice",
            "refund_of",
            "dispute_of",
            "wallet",
            "payer_reference",
            "note",
            "receipt_number",
            "receipt_created_at",
            "receipt_sent_at",
            "created_at",
            "completed_at",
        )
        read_only_fields = fields


MANUAL_METHOD_CHOICES = sorted(MANUAL_METHODS)
RECEIPT_METHOD_CHOICES = sorted(RECEIPT_METHODS)


def manual_method(**kwargs):
    return serializers.ChoiceField(choices=MANUAL_METHOD_CHOICES, **kwargs)


class PaymentCreate(serializers.Serializer):
    account = VisiblePrimaryKey(queryset=Account.objects.all(), account_path="pk")
    amount = MoneyField(positive=True)
    method = manual_method()
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, attrs):
        from billing_site.api.fields import check_currency

        check_currency(attrs["amount"], attrs["account"].currency, "amount")
        return attrs


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ReversalInput(ReasonInput):
    amount = MoneyField(positive=True, required=False, help_text="Default: all of it.")


class CompleteInput(serializers.Serializer):
    method = manual_method()
    amount = MoneyField(positive=True, required=False, help_text="Default: the amount due.")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ReceiptInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=RECEIPT_METHOD_CHOICES, required=False)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class SendReceiptInput(serializers.Serializer):
    to = serializers.EmailField(required=False, help_text="Default: the account's email.")


class DirectDebitInput(serializers.Serializer):
    iban = serializers.CharField(
        max_length=42,
        required=False,
        help_text="The member's IBAN (spaces allowed), used once: handed to the gateway and "
        "never stored. Default: collect under the account's active mandate.",
    )
    mandate = VisiblePrimaryKey(
        queryset=Mandate.objects.all(),
        required=False,
        help_text="A mandate of the account (default: its active one). Not with `iban`.",
    )


class AllocationInput(serializers.Serializer):
    invoice = VisiblePrimaryKey(queryset=Invoice.objects.all())
    amount = MoneyField(positive=True, required=False, help_text="Default: what is due.")


class AssignInput(serializers.Serializer):
    allocations = AllocationInput(many=True, min_length=1, max_length=200)


class PaymentFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PaymentStatus.choices)
    type = filters.ChoiceFilter(choices=PaymentType.choices)
    method = filters.ChoiceFilter(choices=PaymentMethod.choices)
    created = filters.DateFromToRangeFilter(field_name="created_at")
    completed = filters.DateFromToRangeFilter(field_name="completed_at")
    due_date = filters.DateFromToRangeFilter()

    class Meta:
        model = Payment
        fields = ("account", "invoice", "status", "type", "method", "direction", "wallet")


class InvoicePayment(serializers.Serializer):
    invoice = InvoiceSerializer()
    payment = PaymentSerializer()


class InvoiceRefunds(serializers.Serializer):
    invoice = InvoiceSerializer()
    refunds = PaymentSerializer(many=True)


class ExpireDueResult(serializers.Serializer):
    expired = serializers.IntegerField(
        help_text="How many waiting postpay payments past their due date were expired now "
        "(0 when none was due)."
    )
