"""A wallet's automatic top-up rule (issue 14 item 5). The low-balance threshold and the
alert flags live on the wallet row itself (``Wallet.low_balance_*``, ``depleted_alert_seq``)
so that the movement that crosses them sees them under the wallet's own lock."""

from django.db import models
from django.db.models import Q
from djmoney.models.fields import MoneyField

from ledger.models.base import SingleCurrencyModel
from ledger.money import DECIMAL_PLACES, MAX_DIGITS


def optional_money(**kwargs):
    """A nullable money field in the row's ``currency`` whose default is NULL."""
    return MoneyField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        currency_field_name="currency",
        null=True,
        blank=True,
        default=None,
        **kwargs,
    )


class AutoTopUpTrigger(models.TextChoices):
    BELOW_THRESHOLD = "below_threshold", "When available falls below the wallet's threshold"
    MONTHLY = "monthly", "Monthly, on a day of the month"


class AutoTopUp(SingleCurrencyModel):
    """When to open an automatic ``top_up`` payment for a wallet, and for how much: a
    fixed ``amount``, or up to a ``target`` balance (exactly one of the two)."""

    wallet = models.OneToOneField(
        "wallets.Wallet", on_delete=models.PROTECT, related_name="auto_top_up"
    )
    trigger = models.CharField(max_length=16, choices=AutoTopUpTrigger.choices)
    day_of_month = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Monthly rules: 1 to 28."
    )
    currency = models.CharField(max_length=3, editable=False)
    amount = optional_money(help_text="A fixed amount each time.")
    target = optional_money(help_text="Or: top up to this available balance.")
    enabled = models.BooleanField(default=True)
    last_triggered_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_period = models.CharField(
        max_length=7, blank=True, editable=False, help_text="Monthly: the last month run."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(amount__isnull=False, amount__gt=0, target__isnull=True))
                | (Q(amount__isnull=True, target__isnull=False, target__gt=0)),
                name="auto_top_up_amount_xor_target",
            ),
            models.CheckConstraint(
                condition=(
                    Q(trigger="monthly", day_of_month__gte=1, day_of_month__lte=28)
                    | Q(trigger="below_threshold", day_of_month__isnull=True)
                ),
                name="auto_top_up_day_iff_monthly",
            ),
        ]

    def __str__(self):
        return f"Auto top-up of wallet {self.wallet_id} ({self.trigger})"
