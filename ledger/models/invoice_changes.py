"""The audit log of invoices (SPEC section 8, "Audited"): one row per change made by the
invoice services — created, header edited, line added / changed / removed, opened,
issued (posted), cancelled (voided) — with who, when and what changed.

Append-only like the ledger entries (model guard, queryset guard and, in a migration,
triggers). The invoice and account links carry no database constraint on purpose: a
deleted draft keeps its history (the row still names the invoice id it was about).
"""

from django.conf import settings
from django.db import models

from .base import AppendOnlyQuerySet


class InvoiceAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Header changed"
    ADD_LINE = "add_line", "Line added"
    UPDATE_LINE = "update_line", "Line changed"
    REMOVE_LINE = "remove_line", "Line removed"
    OPEN = "open", "Opened (ongoing)"
    POST = "post", "Issued"
    VOID = "void", "Cancelled"


class InvoiceChange(models.Model):
    invoice = models.ForeignKey(
        "ledger.Invoice",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="changes",
    )
    account = models.ForeignKey(
        "ledger.Account", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    action = models.CharField(max_length=20, choices=InvoiceAction.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    changes = models.JSONField(
        default=dict, blank=True, help_text='What changed: {"field": [before, after]}, a line.'
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "at", "id"]
        indexes = [models.Index(fields=["invoice", "at"], name="invoice_change_invoice_at")]

    def __str__(self):
        return f"{self.invoice_id}: {self.action} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise TypeError("Invoice changes are append-only: record a new change instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Invoice changes are append-only: record a new change instead.")
