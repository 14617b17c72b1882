"""The payment and its state machine (SPEC section 5).

The status field is a protected django-fsm field: it changes only through the
transition methods below, which the services in ``payments.services.transitions`` call
under a row lock, re-checking the state and logging every change. Each transition's
``conditions`` enforce the type matrix and the method rules, so a forbidden path
raises ``TransitionNotAllowed`` whoever calls it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, FSMModelMixin, transition

from ledger.models.base import SingleCurrencyModel
from ledger.models.invoices import money_field


class PaymentStatus(models.TextChoices):
    PENDING_BILLING = "pending_billing", "Pending billing"
    WAITING_FOR_PAYMENT = "waiting_for_payment", "Waiting for payment"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    RECEIPT_CREATING = "receipt_creating", "Receipt creating"
    RECEIPT_SENT = "receipt_sent", "Receipt sent"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    PAID_FROM_BALANCE = "paid_from_balance", "Paid from balance"


class PaymentType(models.TextChoices):
    RENDERED_SERVICES = "rendered_services", "Rendered services"
    ORDER = "order", "Order"
    TOP_UP = "top_up", "Top-up"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    CARD = "card", "Card"
    DIRECT_DEBIT = "direct_debit", "Direct debit"
    ACCOUNT_BALANCE = "account_balance", "Account balance"


class Direction(models.TextChoices):
    INCOMING = "incoming", "Incoming"
    OUTGOING = "outgoing", "Outgoing"


S = PaymentStatus
T = PaymentType
M = PaymentMethod

# SPEC section 5: which statuses each type may ever reach.
ALLOWED_STATUSES = {
    T.RENDERED_SERVICES: frozenset(S.values),
    T.ORDER: frozenset(S.values) - {S.PENDING_BILLING, S.EXPIRED},
    T.TOP_UP: frozenset(S.values) - {S.PENDING_BILLING, S.EXPIRED, S.PAID_FROM_BALANCE},
}
RECEIPT_METHODS = frozenset({M.BANK_TRANSFER, M.CASH})
GATEWAY_METHODS = frozenset({M.CARD, M.DIRECT_DEBIT})
# Methods staff may record when marking a payment as paid by hand.
MANUAL_METHODS = frozenset({M.BANK_TRANSFER, M.CASH, M.CHEQUE, M.CARD, M.DIRECT_DEBIT})
# Statuses of a payment still waiting for its money: at most one per invoice (the one
# ``open_payment_for`` finds). All but ``processing`` can be cancelled; a gateway's
# payment waits for the gateway's answer.
CANCELLABLE_STATUSES = (
    S.PENDING_BILLING,
    S.WAITING_FOR_PAYMENT,
    S.EXPIRED,
    S.RECEIPT_CREATING,
    S.RECEIPT_SENT,
)
WAITING_STATUSES = (*CANCELLABLE_STATUSES, S.PROCESSING)


def type_allows(status):
    def condition(payment) -> bool:
        return status in ALLOWED_STATUSES[payment.type]

    condition.__name__ = condition.hint = f"its type does not allow the status '{status}'"
    return condition


def method_in(methods, what):
    def condition(payment) -> bool:
        return payment.method in methods

    names = ", ".join(sorted(methods))
    condition.__name__ = condition.hint = f"only {names} payments {what}"
    return condition


def is_incoming(payment) -> bool:
    return payment.direction == Direction.INCOMING


is_incoming.hint = "outgoing payments (refunds, disputes) do not take this action"


class Payment(FSMModelMixin, SingleCurrencyModel):
    """One exchange of funds, one way, in the account's currency."""

    number = models.CharField(max_length=40, unique=True, editable=False)
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="payments")
    direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.INCOMING
    )
    type = models.CharField(max_length=20, choices=PaymentType.choices)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True)
    status = FSMField(
        max_length=24,
        choices=PaymentStatus.choices,
        default=PaymentStatus.WAITING_FOR_PAYMENT,
        protected=True,
    )
    currency = models.CharField(max_length=3, editable=False)
    amount = money_field()
    amount_allocated = money_field(editable=False, help_text="Allocated to invoices.")
    amount_reversed = money_field(
        editable=False, help_text="Refunded, disputed or returned (direct debit)."
    )
    refund_pending = money_field(
        editable=False,
        help_text="Reserved by refunds a gateway is still processing (posted once it confirms).",
    )
    refund_pending_credit = money_field(
        editable=False,
        help_text="The part of refund_pending that comes from the payment's unallocated money.",
    )
    due_date = models.DateField(null=True, blank=True)
    invoice = models.ForeignKey(
        "ledger.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text="The invoice this payment was opened for.",
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    dispute_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    return_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returns",
        help_text="For a direct-debit return: the collection that the bank returned.",
    )
    wallet = models.ForeignKey(
        "wallets.Wallet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="top_ups",
        help_text="For a top-up: the wallet it credits when it completes.",
    )
    batch = models.ForeignKey(
        "payments.PaymentBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    reference = models.CharField(
        max_length=100, blank=True, help_text="Bank or gateway reference given by the payer."
    )
    note = models.CharField(max_length=255, blank=True)
    decline_reason = models.CharField(max_length=255, blank=True)
    gateway = models.CharField(max_length=40, blank=True)
    gateway_reference = models.CharField(
        max_length=100, null=True, blank=True, help_text="The gateway's id for this payment."
    )

    receipt_number = models.CharField(max_length=40, null=True, blank=True, unique=True)
    receipt_created_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_to = models.EmailField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("mark_paid", "Can mark payments as paid"),
            ("create_receipt", "Can create receipts"),
            ("send_receipt", "Can send receipts"),
            ("approve_erp", "Can approve payments by ERP"),
            ("cancel_payment", "Can cancel payments"),
            ("refund_payment", "Can refund payments"),
            ("record_dispute", "Can record disputes"),
            ("assign_payment", "Can assign payments to invoices"),
            ("pay_from_balance", "Can pay from account balance"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(amount_allocated__gte=0) & Q(amount_allocated__lte=F("amount")),
                name="payment_allocated_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(amount_reversed__gte=0) & Q(amount_reversed__lte=F("amount")),
                name="payment_reversed_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refund_pending_credit__gte=0)
                & Q(refund_pending__gte=F("refund_pending_credit"))
                & Q(refund_pending__lte=F("amount") - F("amount_reversed")),
                name="payment_refund_pending_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending_billing") | Q(type="rendered_services"),
                name="payment_pending_billing_postpay_only",
            ),
            models.CheckConstraint(
                condition=~Q(status="expired") | Q(type="rendered_services"),
                name="payment_expired_postpay_only",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid_from_balance")
                | (~Q(type="top_up") & Q(method="account_balance")),
                name="payment_from_balance_rules",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["receipt_creating", "receipt_sent"])
                | Q(method__in=["bank_transfer", "cash"]),
                name="payment_receipt_methods",
            ),
            models.CheckConstraint(
                condition=~Q(status="processing") | Q(method__in=["card", "direct_debit"]),
                name="payment_processing_methods",
            ),
            models.UniqueConstraint(
                fields=["gateway", "gateway_reference"],
                condition=Q(gateway_reference__isnull=False),
                name="payment_gateway_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(wallet__isnull=True) | Q(type="top_up"),
                name="payment_wallet_top_up_only",
            ),
            models.CheckConstraint(
                condition=Q(refund_of__isnull=True) | Q(direction="outgoing"),
                name="payment_refund_is_outgoing",
            ),
            models.CheckConstraint(
                condition=Q(dispute_of__isnull=True) | Q(direction="outgoing"),
                name="payment_dispute_is_outgoing",
            ),
            models.CheckConstraint(
                condition=Q(return_of__isnull=True) | Q(direction="outgoing"),
                name="payment_return_is_outgoing",
            ),
        ]
        indexes = [
            models.Index(fields=["gateway", "gateway_reference"], name="payment_gateway_ref"),
            models.Index(fields=["status", "due_date"], name="payment_status_due"),
            models.Index(fields=["account", "status"], name="payment_account_status"),
        ]

    def __str__(self):
        return self.number

    @property
    def reference_code(self) -> str:
        return f"PAYM-{self.number}"

    @property
    def unallocated(self):
        """Money of the payment still free to allocate to invoices or to refund as
        credit: neither allocated, already given back, nor being refunded."""
        return (
            self.amount - self.amount_allocated - self.amount_reversed - self.refund_pending_credit
        )

    @property
    def reversible(self):
        """What may still be refunded or disputed (a refund the gateway is processing
        keeps its amount reserved)."""
        return self.amount - self.amount_reversed - self.refund_pending

    # --- state declarations: called only by payments.services under a row lock -------

    @transition(
        field=status,
        source=S.PENDING_BILLING,
        target=S.WAITING_FOR_PAYMENT,
        permission="payments.approve_erp",
    )
    def approve(self):
        """The ERP approved the invoice: the payment becomes payable."""

    @transition(
        field=status,
        source=S.WAITING_FOR_PAYMENT,
        target=S.EXPIRED,
        conditions=[type_allows(S.EXPIRED)],
    )
    def expire(self):
        """Not completed by its due date."""

    @transition(
        field=status,
        source=CANCELLABLE_STATUSES,
        target=S.CANCELLED,
        permission="payments.cancel_payment",
    )
    def cancel(self):
        """Cancelled by staff (or by the invoice's cancellation)."""

    @transition(
        field=status,
        source=S.WAITING_FOR_PAYMENT,
        target=S.RECEIPT_CREATING,
        conditions=[
            type_allows(S.RECEIPT_CREATING),
            is_incoming,
            method_in(RECEIPT_METHODS, "go through receipts"),
        ],
        permission="payments.create_receipt",
    )
    def create_receipt(self):
        """Staff prepare a receipt by hand."""

    @transition(
        field=status,
        source=S.RECEIPT_CREATING,
        target=S.RECEIPT_SENT,
        conditions=[method_in(RECEIPT_METHODS, "go through receipts")],
        permission="payments.send_receipt",
    )
    def send_receipt(self):
        """The receipt was sent to the member."""

    @transition(
        field=status,
        source=S.WAITING_FOR_PAYMENT,
        target=S.PROCESSING,
        conditions=[
            type_allows(S.PROCESSING),
            method_in(GATEWAY_METHODS, "are processed by a gateway"),
        ],
    )
    def start_processing(self):
        """A gateway took the payment; no other action until it answers."""

    @transition(field=status, source=S.PROCESSING, target=S.WAITING_FOR_PAYMENT)
    def fail_processing(self):
        """The gateway declined: the payment waits again."""

    @transition(
        field=status,
        source=[S.WAITING_FOR_PAYMENT, S.EXPIRED, S.RECEIPT_CREATING, S.RECEIPT_SENT],
        target=S.COMPLETED,
        conditions=[is_incoming, method_in(MANUAL_METHODS, "can be marked as paid")],
        permission="payments.mark_paid",
    )
    def mark_paid(self):
        """Staff record that the money arrived."""

    @transition(field=status, source=S.PROCESSING, target=S.COMPLETED)
    def complete_from_gateway(self):
        """The gateway confirmed the money."""

    @transition(
        field=status,
        source=[S.WAITING_FOR_PAYMENT, S.EXPIRED],
        target=S.PAID_FROM_BALANCE,
        conditions=[
            type_allows(S.PAID_FROM_BALANCE),
            is_incoming,
            method_in({M.ACCOUNT_BALANCE}, "are paid from the balance"),
        ],
        permission="payments.pay_from_balance",
    )
    def pay_from_balance(self):
        """Settled from the account's credit."""
