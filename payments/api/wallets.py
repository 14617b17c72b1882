"""Wallet top-ups (a top_up payment, or a grant) and applying wallet money to
invoices: payments-level use cases added to ``wallets.api``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from ledger.api.accounts import VisiblePrimaryKey
from ledger.api.fields import MoneyField
from ledger.models import Invoice
from wallets import services as wallets
from wallets.api import (
    CreditMemoSerializer,
    HoldSerializer,
    TransactionSerializer,
    WalletBaseViewSet,
    WalletSerializer,
)
from wallets.models import Hold, Wallet

from .. import services
from .serializers import MANUAL_METHOD_CHOICES, PaymentSerializer


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


class WalletViewSet(WalletBaseViewSet):
    def result(self, serializer_class, wallet, **parts):
        body = {"wallet": Wallet.objects.get(pk=wallet.pk), **parts}
        data = serializer_class(body, context=self.get_serializer_context()).data
        return Response(data, status=201)

    @extend_schema(request=TopUpInput, responses={201: TopUpResult})
    @action(detail=True, methods=["post"], url_path="top-ups")
    def top_ups(self, request, pk=None):
        """Request a top-up (a ``top_up`` payment; the wallet is credited when it is
        completed) or, with ``grant: true``, grant the money now."""
        wallet = self.get_object()
        data = self.input(TopUpInput, **self.context_for(wallet))
        if data["grant"]:
            tx = wallets.top_up(
                wallet=wallet,
                amount=data["amount"],
                actor=self.actor,
                grant=True,
                reference=data.get("reference", ""),
            )
            return self.result(TopUpResult, wallet, payment=None, transaction=tx)
        payment = services.request_wallet_top_up(
            wallet=wallet,
            amount=data["amount"],
            actor=self.actor,
            method=data.get("method", ""),
            due_date=data.get("due_date"),
        )
        return self.result(TopUpResult, wallet, payment=payment, transaction=None)

    @extend_schema(request=ApplyInput, responses={201: ApplyResult})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Spend wallet money on an invoice: a drawdown + prepayment credit memo per line
        on an issued invoice, or a hold that follows an ongoing one."""
        wallet = self.get_object()
        data = self.input(ApplyInput, **self.context_for(wallet))
        result = services.apply_wallet(
            wallet=wallet, invoice=data["invoice"], amount=data.get("amount"), actor=self.actor
        )
        if isinstance(result, Hold):
            return self.result(ApplyResult, wallet, hold=result, credit_memos=[])
        return self.result(ApplyResult, wallet, hold=None, credit_memos=result)
