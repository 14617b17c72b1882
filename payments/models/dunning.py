"""Dunning reminders (issue 15 item 4, SPEC section 7): the reminder levels staff
configure, one ``Reminder`` row per invoice and level, and the accounts excluded from
reminders (docs/RULES.md *Dunning reminders*).

``UniqueConstraint(invoice, level)`` is THE at-most-once guarantee: whatever runs at once
(several workers, staff pressing *Send reminder now*), an invoice gets a level once. The
row is written (``queued``) in the transaction that decides it, with its
``invoice.reminder_sent`` event; the email leaves after that commits and its outcome
(``sent`` / ``failed`` + error) is recorded on the same row.
"""

import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The placeholders a level's subject and body may use, and what each becomes.
PLACEHOLDERS = {
    "member_name": "the account's name",
    "invoice_number": "the invoice's number (INV-…)",
    "amount_due": "what the invoice still owes, e.g. £75.00",
    "due_date": "the due date, e.g. 05 January 2027",
    "days_overdue": "days past the due date (0 before it)",
    "days_until_due": "days until the due date (0 after it)",
    "pay_link": "the payment link's absolute URL (or how to pay when no card link is possible)",
}
MAX_OFFSET_DAYS = 365
MAX_ATTEMPTS = 3


def template_error(text: str) -> str | None:
    """Why ``text`` is not a valid reminder template (None: it is)."""
    try:
        parsed = list(string.Formatter().parse(text or ""))
    except ValueError as exc:
        return f"{exc}: write {{{{ and }}}} for a literal brace"
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            return f"unknown placeholder {{{name}}}: use {known}"
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format or conversion"
    return None


def validate_templates(subject: str, body: str) -> None:
    """Raise ``ValidationError`` naming the field and the unknown placeholder."""
    errors = {}
    for field, text in (("subject", subject), ("body", body)):
        why = template_error(text)
        if why:
            errors[field] = f"{field.capitalize()}: {why}."
    if errors:
        raise ValidationError(errors)


class ReminderLevel(models.Model):
    """A reminder sent ``offset_days`` from an invoice's due date: negative before it,
    positive after it. At most one active level per offset (a unique partial index)."""

    name = models.CharField(max_length=100)
    offset_days = models.IntegerField(
        "days from the due date",
        help_text="Negative: days BEFORE the due date (-3 = three days before); positive: "
        "days AFTER it (7 = a week late); 0 = on the due date.",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="The email text. Placeholders: "
        + ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        + "."
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["offset_days", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["offset_days"],
                condition=Q(is_active=True),
                name="reminder_level_active_offset_unique",
                violation_error_message="Another active level has this number of days.",
            ),
            models.CheckConstraint(
                condition=Q(offset_days__gte=-MAX_OFFSET_DAYS, offset_days__lte=MAX_OFFSET_DAYS),
                name="reminder_level_offset_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.when})"

    def save(self, *args, **kwargs):
        validate_templates(self.subject, self.body)  # never a level that cannot render
        super().save(*args, **kwargs)

    @property
    def when(self) -> str:
        n = abs(self.offset_days)
        days = f"{n} day{'s' if n != 1 else ''}"
        if self.offset_days < 0:
            return f"{days} before the due date"
        return f"{days} after the due date" if n else "on the due date"

    def clean(self):
        super().clean()
        if self.offset_days is not None and abs(self.offset_days) > MAX_OFFSET_DAYS:
            raise ValidationError(
                {"offset_days": f"Days from the due date: at most {MAX_OFFSET_DAYS} either way."}
            )
        validate_templates(self.subject, self.body)


class ReminderStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ReminderTrigger(models.TextChoices):
    RUN = "run", "The reminder run"
    STAFF = "staff", "Staff (send reminder now)"


class Reminder(models.Model):
    """One level of one invoice, decided once: queued -> sent or failed (retried up to
    ``MAX_ATTEMPTS``), or skipped (passed over by a later level, or not sent because the
    invoice no longer owed money when the email was to leave)."""

    invoice = models.ForeignKey(
        "ledger.Invoice", on_delete=models.PROTECT, related_name="reminders"
    )
    level = models.ForeignKey(ReminderLevel, on_delete=models.PROTECT, related_name="reminders")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ReminderStatus.choices)
    trigger = models.CharField(max_length=10, choices=ReminderTrigger.choices)
    actor_label = models.CharField(max_length=150)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_to = models.EmailField(blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    link = models.ForeignKey(
        "payments.PaymentLink",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
        help_text="The payment link the email carries.",
    )
    pay_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="reminder_once_per_level"),
            models.CheckConstraint(
                condition=Q(status__in=ReminderStatus.values), name="reminder_status_known"
            ),
            models.CheckConstraint(
                condition=Q(trigger__in=ReminderTrigger.values), name="reminder_trigger_known"
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="reminder_sent_at_iff_sent",
            ),
            models.CheckConstraint(
                condition=Q(status="skipped") | ~Q(sent_to=""), name="reminder_has_an_address"
            ),
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=Q(status__in=["queued", "failed"]),
                name="reminder_to_deliver",
            )
        ]

    def __str__(self) -> str:
        return f"{self.level.name} for invoice {self.invoice} ({self.get_status_display()})"


class DunningExclusion(models.Model):
    """The account gets no reminders (neither the run's nor staff's) while this exists."""

    account = models.OneToOneField(
        "ledger.Account", on_delete=models.PROTECT, related_name="dunning_exclusion"
    )
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_label = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="dunning_exclusion_has_reason")
        ]

    def __str__(self) -> str:
        return f"Account {self.account_id} excluded from reminders: {self.reason}"
