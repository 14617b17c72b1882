"""The period-close billing run (SPEC section 7, issue 15 item 5; docs/RULES.md
"Billing run"): one ``BillingRun`` per close, one ``BillingRunItem`` per ongoing invoice
it is to issue.

The items are the run's work queue and its record. A worker claims pending items with
``FOR UPDATE SKIP LOCKED`` and issues each invoice in the transaction that marks its item
``issued`` (or ``failed``, with the reason); a crash rolls both back, so the item is
pending again and the next worker takes it. An invoice is issued once: the invoice
service issues only an ``ongoing`` invoice, under its lock, and at most one item per
invoice is ever ``issued`` (a partial unique index).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models.invoices import money_field


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ISSUED = "issued", "Issued"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class BillingRun(models.Model):
    """One close of billing periods: every ongoing invoice whose period ended on or
    before ``through``. At most one run is running at a time (a partial unique index):
    a second ``close_period`` joins it instead of starting another."""

    through = models.DateField(help_text="Issues ongoing invoices whose period ended by then.")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default="running")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="billing_run_one_running",
            ),
            models.CheckConstraint(
                condition=Q(status="running", finished_at__isnull=True)
                | Q(status="finished", finished_at__isnull=False),
                name="billing_run_finished_when_finished",
            ),
        ]

    def __str__(self):
        return f"Billing run #{self.pk} through {self.through:%d %b %Y}"


class BillingRunItem(models.Model):
    """One invoice of a run: pending until a worker issues it (or records why not)."""

    run = models.ForeignKey(BillingRun, on_delete=models.PROTECT, related_name="items")
    invoice = models.ForeignKey("ledger.Invoice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default="pending")
    reason = models.CharField(max_length=500, blank=True)
    currency = models.CharField(max_length=3)
    total = money_field(help_text="The invoice's total when it was issued.")
    captured = money_field(help_text="Wallet holds captured as credit memos.")
    credit_applied = money_field(help_text="Account credit applied at issue.")
    waiting = money_field(help_text="Left on the waiting payment.")
    direct_debit = models.BooleanField(default=False, help_text="A direct debit was started.")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "invoice"], name="billing_item_once_per_run"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status="issued"),
                name="billing_item_issued_once",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", processed_at__isnull=True)
                | (~Q(status="pending") & Q(processed_at__isnull=False)),
                name="billing_item_processed_when_done",
            ),
        ]
        indexes = [
            models.Index(
                fields=["run", "account", "id"],
                condition=Q(status="pending"),
                name="billing_item_pending",
            ),
        ]

    def __str__(self):
        return f"{self.run_id}: invoice {self.invoice_id} {self.status}"
