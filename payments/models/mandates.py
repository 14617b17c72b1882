"""Direct-debit mandates: the member's standing authorisation to collect from their bank
account (issue 14). The IBAN itself is kept by the gateway, which answered the mandate's
registration with its own id (``gateway_mandate``); Billfold keeps only the IBAN's last
four characters, to show it masked (docs/RULES.md, *Mandates*)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MandateStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"


class Mandate(models.Model):
    """At most one active mandate per account; a revoked one is kept for good (the
    gateway calls made under it name it)."""

    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="mandates")
    reference = models.CharField(
        max_length=35, help_text="The mandate reference (SEPA UMR), unique across accounts."
    )
    signed_on = models.DateField(help_text="The day the member signed the mandate.")
    iban_last4 = models.CharField(max_length=4, help_text="The IBAN's last four characters.")
    gateway = models.CharField(max_length=40)
    gateway_mandate = models.CharField(
        max_length=100, help_text="The gateway's id for this mandate (it keeps the IBAN)."
    )
    status = models.CharField(
        max_length=10, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_label = models.CharField(max_length=150)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_by_label = models.CharField(max_length=150, blank=True)
    revoke_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("revoke_mandate", "Can revoke a direct-debit mandate")]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="mandate_reference_unique"),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="active"),
                name="mandate_one_active_per_account",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "revoked"]), name="mandate_status_known"
            ),
            models.CheckConstraint(
                condition=(Q(status="active", revoked_at__isnull=True))
                | Q(status="revoked", revoked_at__isnull=False),
                name="mandate_revoked_at_iff_revoked",
            ),
            models.CheckConstraint(
                condition=~Q(iban_last4="") & ~Q(gateway_mandate="") & ~Q(reference=""),
                name="mandate_fields_present",
            ),
        ]

    def __str__(self):
        return f"{self.reference} ({self.iban_masked})"

    @property
    def iban_masked(self) -> str:
        """The IBAN as it is shown everywhere: all but its last four characters hidden."""
        return f"•••• {self.iban_last4}"

    @property
    def is_active(self) -> bool:
        return self.status == MandateStatus.ACTIVE
