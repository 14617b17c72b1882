"""Wallet shapes on the wire: wallets with their four balances, transactions with the
balances after each, holds, credit memos, and the inputs of the wallet actions."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from billing_site.api.accounts import VisiblePrimaryKey
from billing_site.api.fields import MoneyField
from billing_site.api.payment_serializers import MANUAL_METHOD_CHOICES, PaymentSerializer
from ledger.models import Account, Invoice
from wallets.models import CreditMemo, Hold, Wallet, WalletStatus, WalletTransaction


class WalletSerializer(serializers.ModelSerializer):
    total = MoneyField(read_only=True, help_text="Everything ever added.")
    consumed = MoneyField(read_only=True, help_text="Drawn down.")
    held = MoneyField(read_only=True, help_text="Reserved for ongoing invoices.")
    available = MoneyField(read_only=True, help_text="total − consumed − held.")

    class Meta:
        model = Wallet
        fields = (
            "id",
            "account",
            "name",
            "status",
            "currency",
            "total",
            "consumed",
            "held",
            "available",
            "created_at",
            "closed_at",
        )
        read_only_fields = fields


class WalletCreate(serializers.Serializer):
    account = VisiblePrimaryKey(queryset=Account.objects.all(), account_path="pk")
    name = serializers.CharField(max_length=100)


class TransactionSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    total_after = MoneyField()
    consumed_after = MoneyField()
    held_after = MoneyField()
    available_after = MoneyField()
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = WalletTransaction
        fields = (
            "id",
            "wallet",
            "seq",
            "at",
            "kind",
            "amount",
            "total_after",
            "consumed_after",
            "held_after",
            "available_after",
            "reference",
            "description",
            "invoice",
            "actor",
        )
        read_only_fields = fields


class HoldSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True, help_text="Currently reserved.")
    requested = MoneyField(read_only=True, allow_null=True, help_text="Cap, or null.")

    class Meta:
        model = Hold
        fields = (
            "id",
            "wallet",
            "invoice",
            "status",
            "amount",
            "requested",
            "created_at",
            "closed_at",
        )
        read_only_fields = fields


class CreditMemoSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True)
    reference = serializers.CharField(read_only=True)
    drawdown = serializers.IntegerField(source="drawdown_id", allow_null=True)

    class Meta:
        model = CreditMemo
        fields = (
            "id",
            "number",
            "reference",
            "account",
            "invoice",
            "invoice_line",
            "wallet",
            "drawdown",
            "reason",
            "status",
            "amount",
            "created_at",
        )
        read_only_fields = fields


class DrawdownInput(serializers.Serializer):
    amount = MoneyField(positive=True)
    reference = serializers.CharField(
        max_length=100,
        help_text="The meter's usage reference, unique per wallet: a retry "
        "with the same reference and amount returns the first drawdown.",
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)


class AmountInput(serializers.Serializer):
    amount = MoneyField(positive=True)


class WalletFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=WalletStatus.choices)

    class Meta:
        model = Wallet
        fields = ("account", "status", "name")


class TopUpInput(serializers.Serializer):
    amount = MoneyField(positive=True)
    grant = serializers.BooleanField(
        default=False, help_text="Add the money now without a payment (a staff grant)."
    )
    method = serializers.ChoiceField(choices=MANUAL_METHOD_CHOICES, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TopUpResult(serializers.Serializer):
    wallet = WalletSerializer()
    payment = PaymentSerializer(allow_null=True, help_text="The top_up payment to complete.")
    transaction = TransactionSerializer(allow_null=True, help_text="The grant.")


class ApplyInput(serializers.Serializer):
    invoice = VisiblePrimaryKey(queryset=Invoice.objects.all())
    amount = MoneyField(
        positive=True,
        required=False,
        help_text="Issued invoice: default the lesser of due and available. Ongoing: a cap.",
    )


class ApplyResult(serializers.Serializer):
    wallet = WalletSerializer()
    hold = HoldSerializer(allow_null=True, help_text="On an ongoing invoice.")
    credit_memos = CreditMemoSerializer(many=True, help_text="On an issued invoice.")
