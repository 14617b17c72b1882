"""Prepaid wallets (SPEC section 6).

The wallet row carries its balances — ``total`` (everything ever added), ``consumed``
(drawn down), ``held`` (reserved for ongoing invoices) — and a database CHECK keeps
``available = total - consumed - held`` at or above zero whatever runs at once. Every
movement is an append-only ``WalletTransaction`` carrying the balances after it.
"""

from django.db import models
from django.db.models import F, Q, Value

from ledger.models.base import (
    SUM_SLACK,
    AppendOnlyQuerySet,
    ProvenanceModel,
    SingleCurrencyModel,
)
from ledger.models.invoices import money_field

from .alerts import optional_money


class WalletStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Wallet(SingleCurrencyModel):
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="wallets")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=WalletStatus.choices, default="active")
    currency = models.CharField(max_length=3, editable=False)
    total = money_field(editable=False)
    consumed = money_field(editable=False)
    held = money_field(editable=False)
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    low_balance_threshold = optional_money(
        editable=False,
        help_text="wallet.low_balance when available falls below it (set through a service).",
    )
    low_balance_email = models.BooleanField(
        default=False, editable=False, help_text="Also email the account on a low balance."
    )
    # The alert flags: the seq of the movement that alerted, NULL while armed.
    low_balance_alert_seq = models.PositiveBigIntegerField(null=True, editable=False)
    depleted_alert_seq = models.PositiveBigIntegerField(null=True, editable=False)

    class Meta:
        ordering = ["account", "name"]
        permissions = [
            ("top_up_wallet", "Can top up wallets (request a top-up payment)"),
            ("grant_wallet", "Can grant money to wallets"),
            ("apply_wallet", "Can apply wallet money to invoices"),
            ("transfer_wallet", "Can turn wallet money into account credit"),
            ("close_wallet", "Can close wallets"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="wallet_account_name_unique"),
            models.CheckConstraint(condition=Q(total__gte=0), name="wallet_total_gte_0"),
            models.CheckConstraint(condition=Q(consumed__gte=0), name="wallet_consumed_gte_0"),
            models.CheckConstraint(condition=Q(held__gte=0), name="wallet_held_gte_0"),
            models.CheckConstraint(
                condition=Q(total__gte=F("consumed") + F("held") - Value(SUM_SLACK)),
                name="wallet_available_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(low_balance_threshold__isnull=True) | Q(low_balance_threshold__gte=0),
                name="wallet_low_balance_threshold_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(low_balance_threshold__isnull=False)
                | Q(low_balance_alert_seq__isnull=True),
                name="wallet_low_balance_alert_needs_threshold",
            ),
            models.CheckConstraint(
                condition=Q(low_balance_alert_seq__isnull=True)
                | Q(low_balance_alert_seq__lte=F("last_seq")),
                name="wallet_low_balance_alert_seq_lte_last",
            ),
            models.CheckConstraint(
                condition=Q(depleted_alert_seq__isnull=True)
                | Q(depleted_alert_seq__lte=F("last_seq")),
                name="wallet_depleted_alert_seq_lte_last",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.account.name})" if self.account_id else self.name

    @property
    def available(self):
        return self.total - self.consumed - self.held

    @property
    def is_active(self) -> bool:
        return self.status == WalletStatus.ACTIVE


class TxKind(models.TextChoices):
    TOP_UP = "top_up", "Top-up"
    GRANT = "grant", "Grant"
    DRAWDOWN = "drawdown", "Drawdown"
    HOLD = "hold", "Hold"
    HOLD_CHANGE = "hold_change", "Hold change"
    HOLD_RELEASE = "hold_release", "Hold release"
    HOLD_CAPTURE = "hold_capture", "Hold capture"
    TRANSFER_TO_CREDIT = "transfer_to_credit", "Transfer to account credit"
    TOP_UP_REFUND = "top_up_refund", "Refund of a top-up"


class WalletTransaction(ProvenanceModel, SingleCurrencyModel):
    """One append-only movement of a wallet, with the wallet's balances after it.

    ``amount`` is positive; the kind says what it moved: top-up/grant add to total,
    drawdown/capture/transfer add to consumed, hold/release/change move held (a hold
    change carries the signed difference in ``held_delta``), a top-up refund takes
    from total.
    """

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="transactions")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=TxKind.choices)
    currency = models.CharField(max_length=3, editable=False)
    amount = money_field()
    total_after = money_field()
    consumed_after = money_field()
    held_after = money_field()
    reference = models.CharField(
        max_length=100, blank=True, help_text="Usage reference, payment or invoice number."
    )
    usage_reference = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        help_text="For a usage drawdown: the meter's reference, unique per wallet.",
    )
    description = models.CharField(max_length=255, blank=True)
    invoice = models.ForeignKey(
        "ledger.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hold = models.ForeignKey(
        "wallets.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["wallet", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["wallet", "seq"], name="wallet_tx_seq_unique"),
            models.UniqueConstraint(
                fields=["wallet", "usage_reference"], name="wallet_usage_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_tx_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(
                    total_after__gte=F("consumed_after") + F("held_after") - Value(SUM_SLACK)
                ),
                name="wallet_tx_available_gte_0",
            ),
        ]

    def __str__(self):
        return f"{self.wallet_id}#{self.seq} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Wallet transactions are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Wallet transactions are append-only.")

    @property
    def available_after(self):
        return self.total_after - self.consumed_after - self.held_after


class HoldStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CAPTURED = "captured", "Captured"
    RELEASED = "released", "Released"


class Hold(SingleCurrencyModel):
    """Wallet money reserved for an ongoing invoice; follows the invoice's amount."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    invoice = models.ForeignKey("ledger.Invoice", on_delete=models.PROTECT, related_name="holds")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=HoldStatus.choices, default="active")
    currency = models.CharField(max_length=3, editable=False)
    amount = money_field(help_text="Currently reserved.")
    requested = money_field(
        null=True, blank=True, help_text="Cap asked for by staff; empty: the whole invoice."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "invoice"],
                condition=Q(status="active"),
                name="hold_one_active_per_wallet_invoice",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="hold_amount_gte_0"),
        ]

    def __str__(self):
        return f"Hold {self.pk}: {self.amount} on {self.invoice_id}"
