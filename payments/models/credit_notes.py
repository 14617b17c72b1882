"""The refund payment behind a credit note (SPEC section 3; ProAbono: the retro-payment
is associated with the credit invoice the refund generates).

The credit note is the ledger's (``ledger.CreditNote``: it explains a ledger entry);
the link lives here because payments sit above the ledger. A refund that gives back
money of several invoices has one credit note per invoice entry, each linked to it.
Append-only, written in the refund's transaction.
"""

from django.db import models

from ledger.models.base import AppendOnlyQuerySet


class RefundCreditNote(models.Model):
    refund = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="credit_note_links"
    )
    credit_note = models.OneToOneField(
        "ledger.CreditNote", on_delete=models.PROTECT, related_name="refund_link"
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["credit_note"]

    def __str__(self):
        return f"{self.credit_note_id} <- refund {self.refund_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("A credit note's refund link never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("A credit note's refund link never changes.")
