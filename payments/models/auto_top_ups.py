"""The ``top_up`` payments opened by a wallet's automatic top-up rule (issue 14 item 5;
docs/RULES.md "Automatic top-ups")."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class AutoTopUpRun(models.Model):
    """One automatic top-up: its payment, what triggered it, and — for a monthly rule —
    the month it ran for. At most one per wallet is open (``closed_at`` NULL, a partial
    unique index; closed once its payment has ended, checked under the wallet lock) and
    a monthly rule runs once per wallet and month (unique ``period``)."""

    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="+")
    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="auto_top_up_run"
    )
    trigger = models.CharField(max_length=16)
    period = models.CharField(max_length=7, blank=True, help_text="Monthly: YYYY-MM.")
    by_direct_debit = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["wallet"],
                condition=Q(closed_at__isnull=True),
                name="auto_top_up_one_open_per_wallet",
            ),
            models.UniqueConstraint(
                fields=["wallet", "period"],
                condition=~Q(period=""),
                name="auto_top_up_once_per_month",
            ),
        ]

    def __str__(self):
        return f"Automatic top-up {self.payment_id} of wallet {self.wallet_id}"
