"""Gateway events (each processed exactly once) and payment links."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventStatus(models.TextChoices):
    PROCESSED = "processed", "Processed"
    STALE = "stale", "Stale (already past that state)"
    UNKNOWN_PAYMENT = "unknown_payment", "Unknown payment"
    OUT_OF_ORDER = "out_of_order", "Out of order (retry expected)"
    FAILED = "failed", "Refused by a business rule"


class GatewayEvent(models.Model):
    """A webhook event as received. ``(gateway, event_id)`` is unique and the row is
    written in the same transaction as the event's effect, so an event takes effect
    once however often (and however concurrently) it is delivered."""

    gateway = models.CharField(max_length=40)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=60)
    payment_reference = models.CharField(max_length=100, blank=True)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=EventStatus.choices)
    detail = models.CharField(max_length=255, blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")
        ]

    def __str__(self):
        return f"{self.gateway}:{self.event_id} {self.type} ({self.status})"


class CallKind(models.TextChoices):
    CARD_PAYMENT = "card_payment", "Start a card payment"
    DIRECT_DEBIT = "direct_debit", "Start a direct debit"
    REFUND = "refund", "Refund"


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending (recorded, not sent yet)"
    SENDING = "sending", "Sending"
    ACCEPTED = "accepted", "Accepted by the gateway"
    FAILED = "failed", "Failed"


class GatewayCall(models.Model):
    """One outbound request to a gateway. Recorded (``pending``) in the transaction that
    decides it, sent after that commits — never under the account lock — and its
    outcome (``accepted`` with the gateway's reference, or ``failed`` with the error)
    recorded in a short transaction of its own. ``request`` holds what was asked,
    without secrets (a card's last four digits, a masked IBAN; for a refund its plan)."""

    gateway = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=CallKind.choices)
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="gateway_calls"
    )
    mandate = models.ForeignKey(
        "payments.Mandate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gateway_calls",
        help_text="The mandate a direct debit was collected under (none: an IBAN typed).",
    )
    status = models.CharField(max_length=10, choices=CallStatus.choices, default="pending")
    request = models.JSONField(default=dict, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["payment", "kind"], name="gateway_call_payment")]

    def __str__(self):
        return f"{self.gateway} {self.kind} for payment {self.payment_id} ({self.status})"


class SandboxEvent(models.Model):
    """An event the sandbox gateway will deliver to the webhook endpoint when due
    (``manage.py deliver_sandbox_events``), like a real gateway's asynchronous outcome."""

    gateway = models.CharField(max_length=40)
    body = models.JSONField()
    due_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["delivered_at", "due_at"], name="sandbox_due")]

    def __str__(self):
        return f"{self.body.get('type')} for {self.body.get('payment_reference')} at {self.due_at}"


class LinkState(models.TextChoices):
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"


class PaymentLink(models.Model):
    """A unique, unguessable, signed, expiring URL that lets a member pay one invoice —
    or, with no invoice, one waiting ``top_up`` payment (``payment``, an automatic
    top-up's link)."""

    invoice = models.ForeignKey(
        "ledger.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_links",
    )
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    nonce = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invoice__isnull=False) | models.Q(payment__isnull=False),
                name="payment_link_invoice_or_payment",
            )
        ]

    def __str__(self):
        if self.invoice_id is None:
            return f"Payment link for top-up {self.payment}"
        return f"Payment link for {self.invoice}"

    @property
    def state(self) -> str:
        if self.paid_at:
            return LinkState.PAID
        if timezone.now() >= self.expires_at:
            return LinkState.EXPIRED
        return LinkState.OPENED if self.opened_at else LinkState.SENT
