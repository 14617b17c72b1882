"""Wallets over the API (SPEC section 6): read, create, top-ups (a top_up payment, or a
grant), apply to an invoice, usage drawdowns, transfers to account credit, holds and
the transaction log. Thin: parse, call the service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_site.api.base import ApiViewSet
from billing_site.api.models import ApiScope
from billing_site.api.pagination import SeqCursor, page_of, paginate
from billing_site.api.wallet_serializers import (
    AmountInput,
    ApplyInput,
    ApplyResult,
    AutoTopUpInput,
    AutoTopUpState,
    DrawdownInput,
    HoldSerializer,
    LowBalanceAlertInput,
    TopUpInput,
    TopUpResult,
    TransactionSerializer,
    WalletCreate,
    WalletFilter,
    WalletSerializer,
)
from payments import services as payments
from wallets import services
from wallets.models import AutoTopUp, Hold, Wallet, WalletTransaction

TransactionPage = page_of(TransactionSerializer, "WalletTransactionPage")
HoldPage = page_of(HoldSerializer, "HoldPage")


@extend_schema(tags=["wallets"])
class WalletViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
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

    @extend_schema(request=None, responses=WalletSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close an empty wallet; refused (409) while money is available or held
        (transfer it to account credit, or release the holds, first)."""
        wallet = services.close_wallet(wallet=self.get_object(), actor=self.actor)
        return self.output(wallet)

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
            tx = services.top_up(
                wallet=wallet,
                amount=data["amount"],
                actor=self.actor,
                grant=True,
                reference=data.get("reference", ""),
            )
            return self.result(TopUpResult, wallet, payment=None, transaction=tx)
        payment = payments.request_wallet_top_up(
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
        result = payments.apply_wallet(
            wallet=wallet, invoice=data["invoice"], amount=data.get("amount"), actor=self.actor
        )
        if isinstance(result, Hold):
            return self.result(ApplyResult, wallet, hold=result, credit_memos=[])
        return self.result(ApplyResult, wallet, hold=None, credit_memos=result)

    @extend_schema(request=LowBalanceAlertInput, responses=WalletSerializer)
    @action(detail=True, methods=["post"], url_path="low-balance-alert")
    def low_balance_alert(self, request, pk=None):
        """Set (or, with ``threshold: null``, clear) the wallet's low-balance threshold:
        ``wallet.low_balance`` once each time available falls below it (and an email to
        the account with ``email: true``); set above what is available, it alerts now."""
        wallet = self.get_object()
        data = self.input(LowBalanceAlertInput, **self.context_for(wallet))
        wallet = services.set_low_balance_alert(
            wallet=wallet, threshold=data["threshold"], email=data["email"], actor=self.actor
        )
        return self.output(Wallet.objects.select_related("account").get(pk=wallet.pk))

    @extend_schema(methods=["GET"], responses=AutoTopUpState)
    @extend_schema(methods=["PUT"], request=AutoTopUpInput, responses=AutoTopUpState)
    @extend_schema(methods=["DELETE"], request=None, responses={200: AutoTopUpState})
    @action(detail=True, methods=["get", "put", "delete"], url_path="auto-top-up")
    def auto_top_up(self, request, pk=None):
        """The wallet's automatic top-up rule: a ``top_up`` payment opened when available
        falls below the wallet's threshold (``below_threshold``) or ``monthly`` on
        ``day_of_month``, for a fixed ``amount`` or up to a ``target``; collected by
        direct debit under the account's mandate, else waiting (the member is emailed).
        PUT sets it (replacing any), DELETE clears it."""
        wallet = self.get_object()
        if request.method == "PUT":
            data = self.input(AutoTopUpInput, **self.context_for(wallet))
            services.set_auto_top_up(wallet=wallet, actor=self.actor, **data)
        elif request.method == "DELETE":
            services.clear_auto_top_up(wallet=wallet, actor=self.actor)
        rule = AutoTopUp.objects.filter(wallet=wallet).first()
        return self.output({"wallet": wallet, "rule": rule}, AutoTopUpState)
