"""Credit notes (SPEC section 3): the document that explains a negative ``INVC`` entry.

A refund of an invoice (whole or part) and the cancellation of an issued invoice each
post ``INVC`` −x; each such entry gets exactly one credit note, numbered in its own
gapless series (``CN-000001``), referencing the invoice and carrying the credited lines
and amounts. Its ``total`` equals −(the entry's debit): the one-to-one ``entry`` link
and a CHECK make that the database's rule too.

A credit note is a document: written once, with its figures frozen in ``figures`` (the
account's name and email, the invoice, the lines, the issue time) so its PDF reads the
same for staff and member, today and in ten years. Append-only like the entries it
explains (model guard, queryset guard and, in a migration, triggers).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .base import AppendOnlyQuerySet, SingleCurrencyModel
from .invoices import money_field

# The numbering counter's key (``InvoiceCounter.series``). Invoice series are letters
# and digits stored upper-case, so this key can never be an invoice series.
COUNTER_KEY = "credit-note"
PREFIX = "CN"


class CreditNoteReason(models.TextChoices):
    REFUND = "refund", "Refund"
    CANCELLATION = "cancellation", "Cancellation"


class CreditNote(SingleCurrencyModel):
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        "ledger.Invoice", on_delete=models.PROTECT, related_name="credit_notes"
    )
    entry = models.OneToOneField(
        "ledger.LedgerEntry",
        on_delete=models.PROTECT,
        related_name="credit_note",
        help_text="The negative INVC entry this credit note explains.",
    )
    seq_no = models.PositiveIntegerField(unique=True)
    number = models.CharField(max_length=32, unique=True)
    reason = models.CharField(max_length=20, choices=CreditNoteReason.choices)
    currency = models.CharField(max_length=3)
    total = money_field(help_text="What the note credits: minus the entry's debit.")
    issued_at = models.DateTimeField()
    figures = models.JSONField(help_text="The document as issued (what its PDF shows).")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-seq_no"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_gt_0"),
            models.CheckConstraint(condition=Q(seq_no__gte=1), name="credit_note_seq_gte_1"),
        ]
        indexes = [models.Index(fields=["account", "issued_at"], name="credit_note_account")]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("Credit notes are documents: issue a new one instead of editing.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Credit notes are documents: they are never deleted.")
