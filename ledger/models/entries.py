from django.db import models
from djmoney.models.fields import MoneyField

from ..money import DECIMAL_PLACES, MAX_DIGITS
from .base import AppendOnlyQuerySet, ProvenanceModel


class EntryKind(models.TextChoices):
    INVOICE = "INVC", "Invoice"
    PAYMENT = "PAYM", "Payment"
    CREDIT = "CRED", "Account credit"
    CREDIT_MEMO = "CRMO", "Credit memo"


def method_label(code: str) -> str:
    """``bank_transfer`` -> ``Bank transfer`` (ledger cannot import the payments app's
    labels, and every method code reads well this way)."""
    return code.replace("_", " ").capitalize() if code else ""


# INVC amounts live in the debit column; every other kind in the credit column.
DEBIT_KINDS = frozenset({EntryKind.INVOICE})


class LedgerEntry(ProvenanceModel):
    """One line of an account's append-only ledger (SPEC section 3).

    ``balance_after`` is the account balance (credits - debits) right after this entry,
    computed at posting time under the account lock, so a statement page never sums
    history. ``digest`` chains the entry to the one before it (``ledger.chain``), so an
    edit made behind the append-only trigger's back is detected. Exactly one of
    ``debit``/``credit`` is non-zero; either may be negative (a cancelled invoice is a
    negative debit, a refund a negative credit).
    """

    # No single-column index for account or invoice: ``(account, seq)`` (unique) and
    # ``entry_invoice`` serve their lookups; one index fewer to update per entry each.
    account = models.ForeignKey(
        "ledger.Account", on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    seq = models.PositiveBigIntegerField()
    posted_at = models.DateTimeField()
    kind = models.CharField(max_length=4, choices=EntryKind.choices)
    reference = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    debit = MoneyField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, currency_field_name="currency"
    )
    credit = MoneyField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, currency_field_name="currency"
    )
    balance_after = MoneyField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, currency_field_name="currency"
    )
    method = models.CharField(
        max_length=32, blank=True, help_text="Payment method, for PAYM entries."
    )

    # The documents behind the entry: its invoice (this app) and, generically, the
    # payment, credit memo or wallet transaction (``ProvenanceModel.source``).
    invoice = models.ForeignKey(
        "ledger.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
    )
    # The hash chain (``ledger.chain``): SHA-256 of the previous entry's digest and this
    # entry's content, hex; written by the posting service under the account lock. An
    # entry written straight into the table gets "" (no link): verify_ledger reports it.
    digest = models.CharField(max_length=64, editable=False, db_default="")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["account", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="entry_account_seq_unique"),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="entry_seq_gte_1"),
            models.CheckConstraint(
                condition=(models.Q(debit=0) & ~models.Q(credit=0))
                | (~models.Q(debit=0) & models.Q(credit=0)),
                name="entry_one_side_nonzero",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="INVC") & models.Q(credit=0))
                | (models.Q(kind__in=["PAYM", "CRED", "CRMO"]) & models.Q(debit=0)),
                name="entry_kind_column",
            ),
            models.CheckConstraint(
                condition=models.Q(source_type__isnull=True, source_id__isnull=True)
                | models.Q(source_type__isnull=False, source_id__isnull=False),
                name="entry_source_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "posted_at", "seq"], name="entry_account_posted"),
            models.Index(fields=["invoice"], name="entry_invoice"),
            models.Index(fields=["source_type", "source_id"], name="entry_source"),
        ]

    def __str__(self):
        return f"{self.account_id}#{self.seq} {self.kind} {self.reference}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("Ledger entries are append-only: post a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are append-only: post a correcting entry instead.")

    @property
    def method_label(self) -> str:
        return method_label(self.method)

    @property
    def amount(self):
        """The signed amount in the entry's own column."""
        return self.debit if self.kind in DEBIT_KINDS else self.credit
