from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models.base import AppendOnlyQuerySet, SingleCurrencyModel
from ledger.models.invoices import money_field


class PaymentTransition(models.Model):
    """Append-only log of every payment status change: who, when, from, to, why.

    Never updated or deleted: the model, its queryset and (in a migration) PostgreSQL
    triggers refuse it, as for ledger entries."""

    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="transitions"
    )
    name = models.CharField(max_length=40)
    source = models.CharField(max_length=24)
    target = models.CharField(max_length=24)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    reason = models.CharField(max_length=255, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["payment", "at", "id"]
        indexes = [models.Index(fields=["payment", "at"], name="ptransition_payment_at")]

    def __str__(self):
        return f"{self.payment_id}: {self.source} -> {self.target}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("Payment transitions are append-only: log a new transition.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Payment transitions are append-only: log a new transition.")


class PaymentAllocation(SingleCurrencyModel):
    """Money of a payment applied to an invoice (negative for a refund or dispute)."""

    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(
        "ledger.Invoice", on_delete=models.PROTECT, related_name="allocations"
    )
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, editable=False)
    amount = money_field()
    reversal_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    reversed_by = models.ForeignKey(
        "payments.Payment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversing_allocations",
        help_text="The refund or dispute payment behind a negative allocation.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    actor_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_nonzero"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, reversal_of__isnull=True)
                | Q(amount__lt=0, reversal_of__isnull=False),
                name="allocation_sign_matches_reversal",
            ),
        ]
        indexes = [models.Index(fields=["invoice"], name="allocation_invoice")]

    def __str__(self):
        return f"{self.payment_id} -> {self.invoice_id}: {self.amount}"


class PaymentBatch(SingleCurrencyModel):
    """A payment recorded for an account group, split into one payment per account."""

    group = models.ForeignKey(
        "ledger.AccountGroup", on_delete=models.PROTECT, related_name="payment_batches"
    )
    currency = models.CharField(max_length=3, editable=False)
    amount = money_field()
    method = models.CharField(max_length=20)
    reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    actor_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="batch_amount_gt_0")]

    def __str__(self):
        return f"Group payment {self.pk} ({self.group})"
