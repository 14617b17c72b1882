"""Documents sent to members: one row per receipt email, written in the transaction
that sends the receipt and delivered after it commits (never under a row lock).

A row is ``pending`` until the email leaves, ``sent`` once the mail server took it, and
``failed`` with the error when it did not; staff retry failed ones from the payment's
page (or ``manage.py send_receipt_emails``), which is visible on that page.
"""

from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReceiptEmail(models.Model):
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="receipt_emails"
    )
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    to = models.EmailField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="receipt_email_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="receipt_email_sent_has_time",
            )
        ]

    def __str__(self):
        return f"Receipt email to {self.to} ({self.get_status_display().lower()})"
