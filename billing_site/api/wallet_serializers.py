"""Wallet shapes on the wire: wallets with their four balances, transactions with the
balances after each, holds, credit memos, and the inputs of the wallet actions."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from billing_site.api.accounts import VisiblePrimaryKey
from billing_site.api.fields import MoneyField
from billing_site.api.payment_serializers import MANUAL_METHOD_CHOICES, PaymentSerializer
from ledger.models import Account, Invoice
from wallets.models import (
    AutoTopUp,
    AutoTopUpTrigger,
    CreditMemo,
    Hold,
    Wallet,
    WalletStatus,
    WalletTransaction,
)


class WalletSerializer(serializers.ModelSerializer):
    total = MoneyField(read_only=True, help_text="Everything ever added.")
    consumed = MoneyField(read_only=True, help_text="Drawn down.")
    held = MoneyField(read_only=True, help_text="Reserved for ongoing invoices.")
    available = MoneyField(read_only=True, help_text="total − consumed − held.")
    low_balance_threshold = MoneyField(
        read_only=True,
        allow_null=True,
        help_text="wallet.low_balance once each time available falls below it; null: none.",
    )
    low_balance_email = serializers.BooleanField(
        read_only=True, help_text="A low balance is also emailed to the account."
    )

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
            "low_balance_threshold",
            "low_balance_email",
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


class LowBalanceAlertInput(serializers.Serializer):
    threshold = MoneyField(
        allow_null=True, help_text="Alert when available falls below it (≥ 0); null clears."
    )
    email = serializers.BooleanField(default=False, help_text="Also email the account.")


class AutoTopUpSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True, allow_null=True, help_text="A fixed amount each time.")
    target = MoneyField(read_only=True, allow_null=True, help_text="Or: up to this balance.")

    class Meta:
        model = AutoTopUp
        fields = (
            "trigger",
            "day_of_month",
            "amount",
            "target",
            "enabled",
            "last_triggered_at",
            "last_period",
        )
        read_only_fields = fields


class AutoTopUpState(serializers.Serializer):
    wallet = serializers.IntegerField(source="wallet.pk")
    rule = AutoTopUpSerializer(allow_null=True, help_text="null: no automatic top-up.")


class AutoTopUpInput(serializers.Serializer):
    trigger = serializers.ChoiceField(choices=AutoTopUpTrigger.choices)
    day_of_month = serializers.IntegerField(
        required=False, allow_null=True, help_text="Monthly: 1 to 28."
    )
    amount = MoneyField(positive=True, required=False, allow_null=True)
    target = MoneyField(positive=True, required=False, allow_null=True)
    enabled = serializers.BooleanField(default=True)
