"""Outgoing webhooks: where events go (``WebhookEndpoint``), one ``WebhookDelivery`` per
(event, endpoint) and each HTTP try of it (``WebhookAttempt``). Delivery state lives
here, never on ``events.Event`` (append-only)."""

import secrets

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from events.models import EventType

SECRET_PREFIX = "whsec_"
EXCERPT_LIMIT = 1024  # characters of a response body kept on an attempt


def new_secret() -> str:
    return f"{SECRET_PREFIX}{secrets.token_urlsafe(32)}"


class WebhookEndpoint(models.Model):
    """A receiver of signed events. ``all_events`` or the listed ``event_types`` (an
    empty list without ``all_events`` receives nothing); ``accounts``/``groups`` restrict
    it to those accounts' events exactly like an API key's restriction (empty: all).

    ``secret`` signs every delivery: it is shown once (at creation and rotation) and
    stored as it is, because signing needs it (a hash could only verify); neither the
    admin nor the API ever shows it again."""

    description = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500)
    all_events = models.BooleanField(
        default=False, help_text="Every event type, including those added later."
    )
    event_types = models.JSONField(
        default=list, blank=True, help_text="Any of: " + ", ".join(EventType.values)
    )
    accounts = models.ManyToManyField(
        "ledger.Account",
        blank=True,
        related_name="+",
        help_text="Only these accounts' events (with the groups below). Empty: all.",
    )
    groups = models.ManyToManyField(
        "ledger.AccountGroup",
        blank=True,
        related_name="+",
        help_text="Only the events of these groups' accounts. Empty: all.",
    )
    secret = models.CharField(max_length=100, editable=False)
    enabled = models.BooleanField(default=True, editable=False)
    disabled_reason = models.CharField(max_length=255, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    auto_disabled = models.BooleanField(
        default=False, editable=False, help_text="Disabled by Billfold after failing for a day."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="First failure with no success since."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(enabled=True, disabled_at__isnull=True, auto_disabled=False)
                | Q(enabled=False, disabled_at__isnull=False),
                name="webhook_endpoint_disabled_at",
            ),
            models.CheckConstraint(
                condition=Q(secret__startswith=SECRET_PREFIX), name="webhook_endpoint_secret"
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return self.all_events or event_type in (self.event_types or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint. ``pending`` has a ``next_attempt_at``; a worker
    claims it by setting ``claimed_until`` (a lease, ``FOR UPDATE SKIP LOCKED``), sends
    outside any transaction, then records the attempt. ``round`` counts redeliveries:
    each round has at most one successful attempt."""

    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="+")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    round = models.PositiveIntegerField(default=1)
    attempts_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="This round's first attempt: retries end 24 h later."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status"
            ),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                | (~Q(status=DeliveryStatus.PENDING) & Q(next_attempt_at__isnull=True)),
                name="webhook_delivery_pending_scheduled",
            ),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.DELIVERED, delivered_at__isnull=False)
                | (~Q(status=DeliveryStatus.DELIVERED) & Q(delivered_at__isnull=True)),
                name="webhook_delivery_delivered_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP POST of a delivery: its number, when, how long, and what came back (the
    status code, or the error when none came) with at most 1 kB of the body."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    round = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    response_excerpt = models.TextField(blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ("-started_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number"),
            models.UniqueConstraint(
                fields=["delivery", "round"],
                condition=Q(succeeded=True),
                name="webhook_attempt_one_success",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("response_excerpt"), EXCERPT_LIMIT),
                name="webhook_attempt_excerpt_1k",
            ),
            models.CheckConstraint(
                condition=Q(succeeded=False) | Q(status_code__gte=200, status_code__lt=300),
                name="webhook_attempt_success_2xx",
            ),
        ]

    def __str__(self) -> str:
        outcome = self.status_code or self.error
        return f"attempt {self.number} of delivery {self.delivery_id}: {outcome}"
