from django.conf import settings
from django.db import models
from djmoney.models.fields import MoneyField

from ..chain import GENESIS
from ..money import DECIMAL_PLACES, MAX_DIGITS
from .base import SingleCurrencyModel


def currency_choices():
    return [(c, c) for c in settings.CURRENCIES]


class AccountGroup(models.Model):
    """Accounts gathered for reading and group-level payments (a company, a reseller)."""

    name = models.CharField(max_length=200, unique=True)
    admin_account = models.ForeignKey(
        "ledger.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="administered_groups",
        help_text="Members of this account may read every account of the group.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Account(SingleCurrencyModel):
    """One billable member. Carries its ledger's running ``balance`` and ``last_seq``.

    ``balance``, ``last_seq`` and ``last_digest`` are written only by
    ``ledger.services.posting`` under a row lock; ``verify_ledger`` re-derives them from
    the entries.
    """

    name = models.CharField(max_length=200)
    email = models.EmailField()
    currency = models.CharField(max_length=3, choices=currency_choices, default="GBP")
    external_ref = models.CharField(
        "external reference",
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text="Id of this member in the CRM or ERP.",
    )
    group = models.ForeignKey(
        AccountGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="billing_accounts",
        help_text="Users who may read this account's statement, invoices and wallets.",
    )
    erp_managed = models.BooleanField(
        "invoices managed by an ERP",
        default=False,
        help_text="Postpay payments start in 'pending billing' until the ERP approves them.",
    )
    payment_terms_days = models.PositiveSmallIntegerField(default=14)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Ledger state, kept under the account row lock by the posting service.
    balance = MoneyField(
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        currency_field_name="currency",
        default=0,
        editable=False,
    )
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    last_posted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The digest of the last entry (``ledger.chain``; GENESIS before the first).
    last_digest = models.CharField(max_length=64, default=GENESIS, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_seq__gte=0), name="account_last_seq_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(last_seq=0) | models.Q(last_posted_at__isnull=False),
                name="account_posted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["email"])]

    def __str__(self):
        return f"{self.name} ({self.currency})"
