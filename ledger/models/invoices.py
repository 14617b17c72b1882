from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition
from djmoney.models.fields import MoneyField

from ..money import DECIMAL_PLACES, MAX_DIGITS
from .base import SUM_SLACK, SingleCurrencyModel


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ONGOING = "ongoing", "Ongoing"
    DUE = "due", "Due"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"
    DISPUTED = "disputed", "Disputed"
    REFUNDED = "refunded", "Refunded"


UNPOSTED = (InvoiceStatus.DRAFT, InvoiceStatus.ONGOING)
# The payable statuses: issued, with money owed on it. The one list every rule uses
# (mark as paid, pay from balance, assign, gateways, links, apply wallet money).
OPEN = (InvoiceStatus.DUE, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.DISPUTED)
# Wallet money can go to an open invoice (drawdown + credit memo) or an ongoing one (hold).
WALLET_PAYABLE = (InvoiceStatus.ONGOING, *OPEN)
EDITABLE = UNPOSTED
# Statuses in which the invoice has a number and its INVC entry on the ledger.
POSTED = (
    InvoiceStatus.DUE,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.DISPUTED,
    InvoiceStatus.REFUNDED,
)


def money_field(**kwargs):
    return MoneyField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        currency_field_name="currency",
        default=0,
        **kwargs,
    )


class InvoiceCounter(models.Model):
    """Gapless numbering: one row per series, locked and bumped inside the issuing
    transaction, so a rolled-back issue gives its number back."""

    series = models.CharField(max_length=16, primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.series}: {self.last_value}"


class Invoice(FSMModelMixin, SingleCurrencyModel):
    """An invoice. Its status runs on django-fsm; transitions are called only by
    ``ledger.services.invoices`` (and, for settlement, ``payments.services``) under the
    account and invoice row locks."""

    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="invoices")
    series = models.CharField(max_length=16, default="INV")
    seq_no = models.PositiveIntegerField(null=True, blank=True, editable=False)
    number = models.CharField(max_length=32, null=True, blank=True, unique=True, editable=False)
    status = FSMField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT, protected=True
    )
    description = models.CharField(max_length=255, blank=True)
    is_prepaid_order = models.BooleanField(
        "prepaid order", default=False, help_text="Paid in advance by an 'order' payment."
    )

    currency = models.CharField(max_length=3, editable=False)
    total = money_field(editable=False)
    amount_paid = money_field(editable=False)
    amount_credited = money_field(
        editable=False, help_text="Covered by credit memos (wallet prepayments)."
    )
    amount_refunded = money_field(editable=False, help_text="Refunded to the member.")

    issue_date = models.DateField(null=True, blank=True, editable=False)
    due_date = models.DateField(null=True, blank=True)
    period_start = models.DateField(
        "billing period from",
        null=True,
        blank=True,
        help_text="First day of the billing period an ongoing invoice covers.",
    )
    period_end = models.DateField(
        "billing period to",
        null=True,
        blank=True,
        help_text="Last day of the period (included): the billing run issues the invoice "
        "once this day has passed.",
    )
    issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancel_reason = models.CharField(max_length=255, blank=True, editable=False)
    overdue_announced_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When its invoice.overdue event was written (once per invoice).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "seq_no"], name="invoice_series_seq_unique"),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_gte_0"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="invoice_paid_gte_0"),
            models.CheckConstraint(
                condition=Q(amount_credited__gte=0), name="invoice_credited_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0), name="invoice_refunded_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(
                    amount_paid__lte=F("total")
                    - F("amount_credited")
                    - F("amount_refunded")
                    + Value(SUM_SLACK)
                ),
                name="invoice_settled_lte_total",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[*UNPOSTED, InvoiceStatus.CANCELLED])
                | Q(seq_no__isnull=False, number__isnull=False, issue_date__isnull=False),
                name="invoice_posted_is_numbered",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=UNPOSTED) | Q(seq_no__isnull=True, number__isnull=True),
                name="invoice_unposted_unnumbered",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True, period_end__isnull=True)
                | Q(
                    period_start__isnull=False,
                    period_end__isnull=False,
                    period_end__gte=F("period_start"),
                ),
                name="invoice_period_whole_and_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="invoice_account_status"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
            # The billing run's question: which ongoing invoices' periods have ended.
            models.Index(
                fields=["period_end", "id"],
                condition=Q(status=InvoiceStatus.ONGOING),
                name="invoice_ongoing_period_end",
            ),
        ]

    def __str__(self):
        return self.number or f"{self.get_status_display()} invoice #{self.pk}"

    @property
    def reference(self) -> str:
        return f"INVC-{self.number}"

    @property
    def amount_due(self):
        """What is still owed: total less refunds, payments and credit memos."""
        return self.total - self.amount_refunded - self.amount_paid - self.amount_credited

    @property
    def amount_received(self):
        """Money paid for the invoice, including what was later refunded: the "Paid"
        figure pages show beside "Refunded" (``amount_paid`` is what it still keeps)."""
        return self.amount_paid + self.amount_refunded

    @property
    def is_open(self) -> bool:
        """Posted and still expecting money."""
        return self.status in OPEN

    # --- state declarations (called by services only, under lock) -------------------

    @transition(field=status, source=InvoiceStatus.DRAFT, target=InvoiceStatus.ONGOING)
    def _open(self):
        pass

    @transition(field=status, source=list(UNPOSTED), target=InvoiceStatus.DUE)
    def _issue(self):
        pass

    @transition(
        field=status,
        source=[*UNPOSTED, InvoiceStatus.DUE],
        target=InvoiceStatus.CANCELLED,
    )
    def _cancel(self):
        pass

    @transition(field=status, source=list(POSTED), target=RETURN_VALUE(*POSTED))
    def _settle(self, target):
        """Move to the settlement status computed by ``services.settle_invoice``."""
        return target


class InvoiceLine(SingleCurrencyModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(max_digits=15, decimal_places=4, default=1)
    currency = models.CharField(max_length=3, editable=False)
    unit_price = money_field()
    amount = money_field(editable=False)
    prepaid_amount = money_field(
        editable=False, help_text="Covered by wallet prepayment credit memos."
    )

    class Meta:
        ordering = ["invoice", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_gte_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_unit_price_gte_0"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="line_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(prepaid_amount__gte=0) & Q(prepaid_amount__lte=F("amount")),
                name="line_prepaid_within_amount",
            ),
        ]

    def __str__(self):
        return self.description
