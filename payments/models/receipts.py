"""Receipts are documents (SPEC section 5): their figures are frozen when they are made.

A receipt has up to two versions, each written once and never changed:

- ``request`` — taken when staff create the receipt (``create_receipt``): a request to
  pay, with the amount to pay and how to pay it;
- ``received`` — taken when its payment completes (money received): the amount
  received, the date it arrived and the invoices it paid.

The PDF (staff's and member's alike) is rendered from the latest version only, never
from the payment's current figures: a waiting payment that shrinks after the request
was sent leaves the sent request as it was. Append-only (model and queryset guards,
and, in a migration, triggers).
"""

from django.db import models

from ledger.models.base import AppendOnlyQuerySet


class ReceiptKind(models.TextChoices):
    REQUEST = "request", "Request for payment"
    RECEIVED = "received", "Payment received"


class ReceiptSnapshot(models.Model):
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="receipt_snapshots"
    )
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    receipt_number = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=ReceiptKind.choices)
    taken_at = models.DateTimeField()
    figures = models.JSONField(help_text="The receipt as made (what its PDF shows).")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["payment", "taken_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt_number", "kind"], name="receipt_snapshot_one_per_kind"
            )
        ]

    def __str__(self):
        return f"{self.receipt_number} ({self.get_kind_display().lower()})"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("Receipts are documents: their figures never change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Receipts are documents: they are never deleted.")
