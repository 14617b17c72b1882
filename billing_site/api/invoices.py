"""Invoices over the API: drafts with lines, ongoing invoices whose wallet holds follow
their lines, issue (credit applied, holds captured, waiting payment opened), cancel,
mark paid, refund and payment links. Thin: parse, call the service, render."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_site.api.base import ApiViewSet
from billing_site.api.dunning import InvoiceRemindersMixin
from billing_site.api.invoice_serializers import (
    InvoiceCreate,
    InvoiceFilter,
    InvoiceHeader,
    InvoiceSerializer,
    IssueInput,
    LineChange,
    LineInput,
    PaymentLinkInput,
    PaymentLinkOutput,
)
from billing_site.api.models import ApiScope
from billing_site.api.payment_serializers import (
    CompleteInput,
    DirectDebitInput,
    InvoicePayment,
    InvoiceRefunds,
    PaymentSerializer,
    ReasonInput,
    ReversalInput,
)
from ledger import services as ledger
from ledger.models import Invoice, InvoiceLine
from ledger.services import LineSpec
from payments import services
from wallets import services as wallets


@extend_schema(tags=["invoices"])
class InvoiceViewSet(
    InvoiceRemindersMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet
):
    """Invoices: drafts with lines, ongoing invoices following consumption, issued
    invoices on the ledger. Money fields are in the account's currency."""

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
        invoice = ledger.create_invoice(
            account=data["account"],
            actor=self.actor,
            lines=lines,
            due_date=data.get("due_date"),
            description=data.get("description", ""),
            series=data["series"],
            is_prepaid_order=data["is_prepaid_order"],
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
        )
        if data["ongoing"]:
            invoice = ledger.open_invoice(invoice=invoice, actor=self.actor)
        return self.output(self.locked(invoice), status=201)

    @extend_schema(request=InvoiceHeader, responses=InvoiceSerializer)
    def partial_update(self, request, pk=None):
        """Edit a draft or ongoing invoice's description, due date and billing period."""
        invoice = self.get_object()
        data = self.input(InvoiceHeader)
        nullable = {"due_date", "period_start", "period_end"}
        changes = {
            name: (value if value is not None or name in nullable else "")
            for name, value in data.items()
        }
        locked = ledger.update_invoice(invoice=invoice.pk, actor=self.actor, **changes)
        return self.output(self.locked(locked))

    @extend_schema(request=None, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """draft → ongoing: the invoice follows consumption until it is issued."""
        invoice = ledger.open_invoice(invoice=self.get_object(), actor=self.actor)
        return self.output(self.locked(invoice))

    scopes = {
        "mark_paid": ApiScope.PAYMENTS,
        "refund": ApiScope.PAYMENTS,
        "payment_link": ApiScope.PAYMENTS,
        "force_direct_debit": ApiScope.PAYMENTS,
        "send_reminder": ApiScope.PAYMENTS,
    }

    def target(self):
        invoice = self.get_object()
        return invoice, {"currency": invoice.currency}

    @extend_schema(request=IssueInput, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        """Number the invoice, post INVC, apply wallet holds and account credit, open the
        payment that waits for the rest."""
        invoice, ctx = self.target()
        data = self.input(IssueInput, **ctx)
        issued = services.issue_invoice(
            invoice=invoice, actor=self.actor, due_date=data.get("due_date")
        )
        return self.output(self.locked(issued))

    @extend_schema(request=ReasonInput, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an invoice with nothing paid (a posted one gets a negative INVC)."""
        invoice, ctx = self.target()
        data = self.input(ReasonInput, **ctx)
        done = services.cancel_invoice(
            invoice=invoice, actor=self.actor, reason=data.get("reason", "")
        )
        return self.output(self.locked(done))

    @extend_schema(request=CompleteInput, responses=InvoicePayment)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        """Complete the invoice's waiting payment and post PAYM (scope ``payments``)."""
        invoice, ctx = self.target()
        data = self.input(CompleteInput, **ctx)
        payment = services.mark_invoice_paid(
            invoice=invoice,
            method=data["method"],
            amount=data.get("amount"),
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            actor=self.actor,
        )
        body = {"invoice": self.locked(invoice), "payment": payment}
        return Response(InvoicePayment(body, context=self.get_serializer_context()).data)

    @extend_schema(request=DirectDebitInput, responses=PaymentSerializer)
    @action(detail=True, methods=["post"], url_path="force-direct-debit")
    def force_direct_debit(self, request, pk=None):
        """Collect an unpaid invoice now by direct debit: its waiting payment goes to the
        gateway (``processing``) until the bank confirms or returns it; returns that
        payment (scope ``payments``). Under the account's active mandate unless an IBAN
        or another mandate is given. Refused (409) when nothing waits to be paid; 422
        without an IBAN when the account has no active mandate."""
        invoice, ctx = self.target()
        data = self.input(DirectDebitInput, **ctx)
        payment = services.force_direct_debit(
            invoice=invoice,
            iban=data.get("iban") or None,
            mandate=data.get("mandate"),
            actor=self.actor,
        )
        return self.output(payment, PaymentSerializer)

    @extend_schema(request=ReversalInput, responses=InvoiceRefunds)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund money paid on the invoice (default all), newest payments first."""
        invoice, ctx = self.target()
        data = self.input(ReversalInput, **ctx)
        refunds = services.refund_invoice(
            invoice=invoice,
            amount=data.get("amount"),
            reason=data.get("reason", ""),
            actor=self.actor,
        )
        body = {"invoice": self.locked(invoice), "refunds": refunds}
        return Response(InvoiceRefunds(body, context=self.get_serializer_context()).data)

    @extend_schema(request=PaymentLinkInput, responses={201: PaymentLinkOutput})
    @action(detail=True, methods=["post"], url_path="payment-link")
    def payment_link(self, request, pk=None):
        """Create a payment link for the invoice: a signed, expiring URL that lets the
        member pay it by card (scope ``payments``)."""
        invoice, ctx = self.target()
        data = self.input(PaymentLinkInput, **ctx)
        link = services.create_payment_link(
            invoice=invoice, actor=self.actor, days=data.get("days")
        )
        path = reverse("payment-link", args=[services.link_token(link)])
        body = {
            "invoice": invoice.pk,
            "url": request.build_absolute_uri(path),
            "state": link.state,
            "expires_at": link.expires_at,
        }
        return Response(PaymentLinkOutput(body).data, status=201)

    @extend_schema(request=LineInput, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"], url_path="lines")
    def add_line(self, request, pk=None):
        """Add a line to a draft or ongoing invoice (its wallet holds follow)."""
        invoice, ctx = self.target()
        data = self.input(LineInput, **ctx)
        spec = LineSpec(data["description"], data["quantity"], data["unit_price"])
        wallets.add_ongoing_line(invoice=invoice, line=spec, actor=self.actor)
        return self.output(self.locked(invoice), status=201)

    @extend_schema(request=LineChange, responses=InvoiceSerializer)
    @action(detail=True, methods=["patch"], url_path=r"lines/(?P<line_id>[0-9]{1,18})")
    def change_line(self, request, pk=None, line_id=None):
        """Change a line of a draft or ongoing invoice — consumption updates the quantity;
        the invoice's wallet holds follow its new total."""
        invoice, ctx = self.target()
        line = InvoiceLine.objects.get(invoice=invoice, pk=line_id)
        data = self.input(LineChange, **ctx)
        wallets.update_ongoing_line(line=line, actor=self.actor, **data)
        return self.output(self.locked(invoice))

    @extend_schema(request=None, responses=InvoiceSerializer)
    @change_line.mapping.delete
    def remove_line(self, request, pk=None, line_id=None):
        """Remove a line of a draft or ongoing invoice."""
        invoice = self.get_object()
        line = InvoiceLine.objects.get(invoice=invoice, pk=line_id)
        wallets.remove_ongoing_line(line=line, actor=self.actor)
        return self.output(Invoice.objects.prefetch_related("lines").get(pk=invoice.pk))
