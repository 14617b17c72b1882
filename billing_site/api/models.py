"""API keys for integration clients and the idempotency records of their writes.

A key is shown once, when it is created; only its prefix (to find it) and the SHA-256
of the whole key (to check it) are stored. Scopes say what a key may do; an optional
restriction to accounts and/or account groups says on which accounts.
"""

import hashlib
import hmac
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

KEY_PREFIX = "bf"


class ApiScope(models.TextChoices):
    READ = "read", "Read everything the key may see"
    WRITE = "write", "Accounts and invoices: create, edit, issue, cancel"
    PAYMENTS = "payments", "Payments: record, mark paid, receipts, refunds, disputes"
    WALLETS = "wallets", "Wallets: create, top up, grant, apply, draw down, transfer"
    ERP = "erp", "ERP approval of pending-billing payments"
    ADMIN = "admin", "Billing-admin settings: webhook endpoints and deliveries (unrestricted keys)"


ALL_SCOPES = tuple(ApiScope.values)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """An integration client (a gateway, the ERP, a CRM, a usage meter)."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of: " + ", ".join(ALL_SCOPES))
    accounts = models.ManyToManyField(
        "ledger.Account",
        blank=True,
        related_name="+",
        help_text="Restrict the key to these accounts (with the groups below). Empty: all.",
    )
    groups = models.ManyToManyField(
        "ledger.AccountGroup",
        blank=True,
        related_name="+",
        help_text="Restrict the key to the accounts of these groups. Empty: all.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        db_table = "ledger_apikey"  # created by the ledger app before the API moved here
        verbose_name = "API key"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        """How postings and transitions name this client (``Actor.label``)."""
        return f"api:{self.name}"[:150]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def set_new_key(self) -> str:
        """Draw a new secret; returns the full key (shown once), stores its hash."""
        self.prefix = secrets.token_hex(4)
        raw = f"{KEY_PREFIX}_{self.prefix}_{secrets.token_urlsafe(32)}"
        self.key_hash = hash_key(raw)
        return raw

    def check_key(self, raw: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_key(raw))

    def revoke(self) -> None:
        self.revoked_at = self.revoked_at or timezone.now()
        self.save(update_fields=["revoked_at"])

    @classmethod
    def create_with_key(cls, *, name: str, scopes=ALL_SCOPES, accounts=(), groups=()):
        """Create a key; returns ``(api_key, raw_key)``. The raw key is not stored."""
        key = cls(name=name, scopes=list(scopes))
        raw = key.set_new_key()
        key.save()
        if accounts:
            key.accounts.set(accounts)
        if groups:
            key.groups.set(groups)
        return key, raw


class IdempotencyRecord(models.Model):
    """The first response to an API write sent with an ``Idempotency-Key``.

    Stored in the same transaction as the write's effect, so a record exists exactly
    when the effect does. ``(client, key)`` is unique: a concurrent retry waits on the
    unique index and then replays this response.
    """

    client = models.CharField(max_length=64, help_text="'key:<id>' of the API key.")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ledger_idempotencyrecord"  # created by the ledger app, see ApiKey
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_client_key"),
            models.CheckConstraint(
                condition=Q(status_code__gte=100) & Q(status_code__lt=600),
                name="idempotency_status_http",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.client} {self.key}"
