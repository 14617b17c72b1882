"""Payments: record money received, list and filter, and every staff transition as a
POST action — each calling the same ``payments.services`` use case as the admin."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins
from rest_framework.decorators import action

from billing_site.api.base import ApiViewSet
from billing_site.api.models import ApiScope
from billing_site.api.payment_serializers import (
    AssignInput,
    CompleteInput,
    DirectDebitInput,
    ExpireDueResult,
    PaymentCreate,
    PaymentFilter,
    PaymentSerializer,
    ReasonInput,
    ReceiptInput,
    ReversalInput,
    SendReceiptInput,
)
from billing_site.api.permissions import is_restricted
from billing_site.documents import receipts
from payments import services
from payments.models import Payment

P = ApiScope.PAYMENTS


@extend_schema(tags=["payments"])
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """One exchange of funds, one way. Statuses run on a state machine; a refused
    transition is a 409 naming the payment, its status and why."""

    queryset = Payment.objects.order_by("-id")
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    write_scope = P
    scopes = {"approve": ApiScope.ERP}

    def target(self):
        payment = self.get_object()
        return payment, {"currency": payment.currency}

    @extend_schema(request=PaymentCreate, responses={201: PaymentSerializer})
    def create(self, request):
        """Record money received without an invoice (account credit until assigned)."""
        data = self.input(PaymentCreate)
        payment = services.record_payment(
            account=data["account"],
            amount=data["amount"],
            method=data["method"],
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            actor=self.actor,
        )
        return self.output(payment, status=201)

    @extend_schema(request=None, responses=ExpireDueResult)
    @action(detail=False, methods=["post"], url_path="expire-due")
    def expire_due(self, request):
        """Expire now every waiting postpay payment past its due date, on every account
        (what ``manage.py expire_payments`` does from cron): returns how many. Safe to
        repeat (a second run finds none); send an ``Idempotency-Key`` to replay the first
        answer. A key restricted to some accounts is refused (403): it spans them all."""
        if is_restricted(request):
            raise exceptions.PermissionDenied(
                "This API key is restricted to some accounts: expiring due payments "
                "spans every account."
            )
        expired = services.expire_due_payments(actor=self.actor)  # named on each payment
        return self.output({"expired": expired}, ExpireDueResult)

    @extend_schema(request=ReasonInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """ERP approval: pending_billing → waiting_for_payment (scope ``erp``)."""
        payment, ctx = self.target()
        data = self.input(ReasonInput, **ctx)
        done = services.approve_by_erp(
            payment=payment, actor=self.actor, reason=data.get("reason", "")
        )
        return self.output(done)

    @extend_schema(request=ReceiptInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"], url_path="create-receipt")
    def create_receipt(self, request, pk=None):
        """waiting_for_payment → receipt_creating (bank transfer and cash only)."""
        payment, ctx = self.target()
        data = self.input(ReceiptInput, **ctx)
        done = services.create_receipt(
            payment=payment,
            actor=self.actor,
            method=data.get("method"),
            note=data.get("note", ""),
        )
        return self.output(done)

    @extend_schema(request=SendReceiptInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"], url_path="send-receipt")
    def send_receipt(self, request, pk=None):
        """receipt_creating → receipt_sent: the receipt PDF is emailed to the member."""
        payment, ctx = self.target()
        data = self.input(SendReceiptInput, **ctx)
        done = receipts.send_receipt(payment=payment, actor=self.actor, to=data.get("to"))
        return self.output(done)

    @extend_schema(request=CompleteInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark as paid: the money arrived; posts PAYM. Less than due opens a payment for
        the rest; more leaves the surplus as credit."""
        payment, ctx = self.target()
        data = self.input(CompleteInput, **ctx)
        done = services.mark_payment_paid(
            payment=payment,
            method=data["method"],
            amount=data.get("amount"),
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            actor=self.actor,
        )
        return self.output(done)

    @extend_schema(request=DirectDebitInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"], url_path="direct-debit")
    def direct_debit(self, request, pk=None):
        """Collect a waiting payment by direct debit: ``processing`` until the bank
        confirms (completed) or returns it; under the account's active mandate unless an
        IBAN or another mandate is given. Refused (409) in any other status."""
        payment, ctx = self.target()
        data = self.input(DirectDebitInput, **ctx)
        done = services.start_direct_debit(
            payment=payment,
            iban=data.get("iban") or None,
            mandate=data.get("mandate"),
            actor=self.actor,
        )
        return self.output(done)

    @extend_schema(request=ReasonInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a payment that has not been paid (never while a gateway processes it)."""
        payment, ctx = self.target()
        data = self.input(ReasonInput, **ctx)
        done = services.cancel_payment(
            payment=payment, actor=self.actor, reason=data.get("reason", "")
        )
        return self.output(done)

    @extend_schema(request=None, responses=PaymentSerializer)
    @action(detail=True, methods=["post"], url_path="pay-from-balance")
    def pay_from_balance(self, request, pk=None):
        """Settle a waiting payment from the account's free credit (PAYM + / CRED −)."""
        payment, _ctx = self.target()
        return self.output(services.pay_from_balance(payment=payment, actor=self.actor))

    @extend_schema(request=ReversalInput, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund a completed payment, whole or in part; returns the refund payment."""
        payment, ctx = self.target()
        data = self.input(ReversalInput, **ctx)
        refund = services.refund_payment(
            payment=payment,
            amount=data.get("amount"),
            reason=data.get("reason", ""),
            actor=self.actor,
        )
        return self.output(refund, status=201)

    @extend_schema(request=ReversalInput, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """Record a chargeback; returns the offsetting payment. The invoice is owed again."""
        payment, ctx = self.target()
        data = self.input(ReversalInput, **ctx)
        dispute = services.record_dispute(
            payment=payment,
            amount=data.get("amount"),
            reason=data.get("reason", ""),
            actor=self.actor,
        )
        return self.output(dispute, status=201)

    @extend_schema(request=AssignInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Allocate a completed payment's unallocated money to open invoices."""
        payment, ctx = self.target()
        data = self.input(AssignInput, **ctx)
        services.assign_payment(
            payment=payment,
            allocations=[(a["invoice"], a.get("amount")) for a in data["allocations"]],
            actor=self.actor,
        )
        return self.output(Payment.objects.get(pk=payment.pk))
