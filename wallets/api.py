"""Wallets over the API (SPEC section 6): read, create, usage drawdowns, transfers to
account credit, holds, the transaction log; credit memos (read). Top-ups and applying
wallet money to invoices are payments-level use cases: ``payments.api`` adds them."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from ledger.api.accounts import VisiblePrimaryKey
from ledger.api.base import ApiViewSet, ReadOnlyApiViewSet
from ledger.api.fields import MoneyField
from ledger.api.pagination import SeqCursor, page_of, paginate
from ledger.models import Account
from ledger.models.api_keys import ApiScope

from . import services
from .models import CreditMemo, Hold, Wallet, WalletStatus, WalletTransaction


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


TransactionPage = page_of(TransactionSerializer, "WalletTransactionPage")
HoldPage = page_of(HoldSerializer, "HoldPage")


@extend_schema(tags=["wallets"])
class WalletBaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Prepaid wallets: available = total − consumed − held, never below zero."""

    queryset = Wallet.objects.select_related("account").order_by("-id")
    serializer_class = WalletSerializer
    filterset_class = WalletFilter
    write_scope = ApiScope.WALLETS

    def context_for(self, wallet):
        return {"currency": wallet.currency}

    @extend_schema(request=WalletCreate, responses={201: WalletSerializer})
    def create(self, request):
        """Open a wallet for an account (names are unique per account)."""
        data = self.input(WalletCreate)
        wallet = services.create_wallet(
            account=data["account"], name=data["name"], actor=self.actor
        )
        return self.output(wallet, status=201)

    @extend_schema(request=DrawdownInput, responses={201: TransactionSerializer})
    @action(detail=True, methods=["post"])
    def drawdowns(self, request, pk=None):
        """Draw a usage charge now; refused whole (409) beyond what is available."""
        wallet = self.get_object()
        data = self.input(DrawdownInput, **self.context_for(wallet))
        tx = services.usage_drawdown(
            wallet=wallet,
            amount=data["amount"],
            reference=data["reference"],
            description=data.get("description", ""),
            actor=self.actor,
        )
        return self.output(tx, TransactionSerializer, status=201)

    @extend_schema(request=AmountInput, responses={201: TransactionSerializer})
    @action(detail=True, methods=["post"], url_path="transfer-to-credit")
    def transfer_to_credit(self, request, pk=None):
        """Move wallet money to the account as credit that never expires (CRED +)."""
        wallet = self.get_object()
        data = self.input(AmountInput, **self.context_for(wallet))
        tx = services.transfer_to_credit(wallet=wallet, amount=data["amount"], actor=self.actor)
        return self.output(tx, TransactionSerializer, status=201)

    @extend_schema(responses=TransactionPage, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def transactions(self, request, pk=None):
        """The wallet's append-only movements, newest first, with balances after each."""
        wallet = self.get_object()
        qs = WalletTransaction.objects.filter(wallet=wallet)
        return paginate(self, qs, TransactionSerializer, SeqCursor)

    @extend_schema(responses=HoldPage, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def holds(self, request, pk=None):
        """Holds on ongoing invoices (create one with ``apply`` on an ongoing invoice)."""
        wallet = self.get_object()
        return paginate(self, Hold.objects.filter(wallet=wallet), HoldSerializer)

    @extend_schema(request=None, responses=HoldSerializer)
    @action(detail=True, methods=["post"], url_path=r"holds/(?P<hold_id>[0-9]{1,18})/release")
    def release_hold(self, request, pk=None, hold_id=None):
        """Give a hold's money back to the wallet."""
        hold = Hold.objects.get(wallet=self.get_object(), pk=hold_id)  # 404 when absent
        return self.output(services.release_hold(hold=hold, actor=self.actor), HoldSerializer)


class CreditMemoFilter(filters.FilterSet):
    class Meta:
        model = CreditMemo
        fields = ("account", "invoice", "wallet", "reason")


@extend_schema(tags=["wallets"])
class CreditMemoViewSet(ReadOnlyApiViewSet):
    """Credit memos (wallet prepayments posted as CRMO). Read-only: they are final."""

    queryset = CreditMemo.objects.order_by("-id")
    serializer_class = CreditMemoSerializer
    filterset_class = CreditMemoFilter
