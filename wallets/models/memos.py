from django.db import models
from django.db.models import Q

from ledger.models.base import SingleCurrencyModel
from ledger.models.invoices import money_field


class CreditMemoReason(models.TextChoices):
    PREPAYMENT = "prepayment", "Prepayment (wallet)"


class CreditMemoStatus(models.TextChoices):
    APPROVED = "approved", "Approved"


class CreditMemo(SingleCurrencyModel):
    """A credit against one invoice line. Prepayment memos are created automatically
    when wallet money pays an invoice, posted as ``CRMO``, and can never be cancelled
    (SPEC section 6): the model has no cancelled status at all."""

    number = models.CharField(max_length=32, unique=True, editable=False)
    account = models.ForeignKey(
        "ledger.Account", on_delete=models.PROTECT, related_name="credit_memos"
    )
    invoice = models.ForeignKey(
        "ledger.Invoice", on_delete=models.PROTECT, related_name="credit_memos"
    )
    invoice_line = models.ForeignKey(
        "ledger.InvoiceLine", on_delete=models.PROTECT, related_name="credit_memos"
    )
    wallet = models.ForeignKey(
        "wallets.Wallet", null=True, blank=True, on_delete=models.PROTECT, related_name="memos"
    )
    drawdown = models.OneToOneField(
        "wallets.WalletTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_memo",
    )
    reason = models.CharField(max_length=20, choices=CreditMemoReason.choices)
    status = models.CharField(max_length=10, choices=CreditMemoStatus.choices)
    currency = models.CharField(max_length=3, editable=False)
    amount = money_field()
    created_at = models.DateTimeField()
    actor_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="memo_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(reason="prepayment") | Q(wallet__isnull=False, drawdown__isnull=False),
                name="memo_prepayment_has_wallet",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def reference(self) -> str:
        return f"CRMO-{self.number}"
