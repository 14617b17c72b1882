"""The outbox's rows: ``Event`` (append-only), the per-account ``EventCounter`` that
numbers them, and ``ConsumedEvent`` (which consumer has taken which event): delivery
state lives beside the event, never on it."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class EventType(models.TextChoices):
    INVOICE_ISSUED = "invoice.issued", "Invoice issued"
    INVOICE_PAID = "invoice.paid", "Invoice paid"
    INVOICE_OVERDUE = "invoice.overdue", "Invoice overdue"
    INVOICE_CANCELLED = "invoice.cancelled", "Invoice cancelled"
    INVOICE_REMINDER_SENT = "invoice.reminder_sent", "Invoice reminder sent"
    PAYMENT_COMPLETED = "payment.completed", "Payment completed"
    PAYMENT_REFUNDED = "payment.refunded", "Payment refunded"
    PAYMENT_DISPUTED = "payment.disputed", "Payment disputed"
    PAYMENT_FAILED = "payment.failed", "Payment failed"
    CREDIT_MEMO_CREATED = "credit_memo.created", "Credit memo created"
    WALLET_TOPPED_UP = "wallet.topped_up", "Wallet topped up"
    WALLET_LOW_BALANCE = "wallet.low_balance", "Wallet low balance"
    WALLET_DEPLETED = "wallet.depleted", "Wallet depleted"


class EventQuerySet(models.QuerySet):
    """Events are history: bulk rewrites are refused here too (and by a trigger)."""

    def update(self, **kwargs):
        raise TypeError("Events are append-only: emit a new event instead.")

    def delete(self):
        raise TypeError("Events are append-only: emit a new event instead.")


class Event(models.Model):
    """One business event of one account, written in the transaction of its effect.

    ``id`` is what receivers dedupe by (delivery is at least once); ``seq`` numbers the
    account's events 1, 2, 3 ... without gaps (``EventCounter``); ``payload`` holds each
    object the event concerns as the REST API showed it at that moment
    (``{"invoice": {...}, "payment": {...}}``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "account", "seq")
        indexes = [models.Index(fields=["created_at"], name="event_created")]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="event_account_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="event_seq_positive"),
            models.CheckConstraint(condition=Q(type__in=EventType.values), name="event_type_known"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} ({self.id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Events are append-only: emit a new event instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only: emit a new event instead.")


class EventCounter(models.Model):
    """The last ``seq`` given to an account's events. Taken by one
    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (``services.next_seq``): the row
    stays locked until commit, so a rollback gives the number back and no two
    transactions get the same one."""

    account = models.OneToOneField(
        "ledger.Account", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"account {self.account_id}: event #{self.last_seq}"


class ConsumedEvent(models.Model):
    """``consumer`` (e.g. ``"webhooks"``) has taken ``event``: the mark that makes an
    event no longer pending for that consumer (``selectors.pending_events``)."""

    consumer = models.CharField(max_length=50)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="consumptions")
    consumed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consumer", "event"], name="consumed_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.consumer}: {self.event_id}"
