"""The reminder email: its text from the level's templates (rendered when the reminder is
decided, kept on the row: the member gets exactly what the row says), and its delivery
after the deciding transaction has committed, never under a lock.

Delivery claims the row with one conditional UPDATE (``claimed_at`` NULL -> now, one
more attempt), so two runs never send one row twice. The outcome is recorded on the row:
``sent`` (``sent_at``), or ``failed`` with the mail server's error and the claim released
(a later run tries again, up to ``MAX_ATTEMPTS`` in all). A process that dies between
claiming and recording leaves the row ``queued`` with its claim: it is not sent again
(the email may have left), and the admin shows it as such (docs/RULES.md).
"""

import logging
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone

from ledger.models import Invoice, InvoiceStatus
from ledger.money import format_money
from ledger.selectors import amount_owed

from ..models import DunningExclusion, Reminder, ReminderLevel, ReminderStatus
from ..models.dunning import MAX_ATTEMPTS

logger = logging.getLogger(__name__)

REMINDABLE = (InvoiceStatus.DUE, InvoiceStatus.PARTIALLY_PAID)


def not_remindable(invoice: Invoice) -> str | None:
    """Why ``invoice`` gets no reminder now (None: it may): only an issued invoice that
    still owes money and is not disputed — never paid, cancelled, refunded, disputed,
    draft or ongoing."""
    if invoice.status not in REMINDABLE:
        return f"it is {invoice.get_status_display().lower()}"
    if amount_owed(invoice).amount <= 0:
        return "it owes nothing"
    if invoice.due_date is None:
        return "it has no due date"
    if not invoice.account.email:
        return "its account has no email address"
    return None


def no_link_words(why: str) -> str:
    return (
        f"(online payment is not possible for this invoice at the moment: it {why}; "
        "please pay as your invoice says)"
    )


def render(level: ReminderLevel, invoice: Invoice, *, today: date, pay_link: str) -> tuple:
    """(subject, body) of ``level`` for ``invoice``. A body without ``{pay_link}`` gets
    the link appended: the member's email always carries it."""
    due = invoice.due_date
    values = {
        "member_name": invoice.account.name,
        "invoice_number": str(invoice),
        "amount_due": format_money(amount_owed(invoice)),
        "due_date": f"{due:%d %B %Y}",
        "days_overdue": max(0, (today - due).days),
        "days_until_due": max(0, (due - today).days),
        "pay_link": pay_link,
    }
    subject = " ".join(level.subject.format_map(values).split())[:255]
    body = level.body.format_map(values)
    if "{pay_link}" not in level.body:
        body = f"{body.rstrip()}\n\nPay online: {pay_link}\n"
    return subject, body


def _claim(reminder_id: int) -> bool:
    return bool(
        Reminder.objects.filter(
            pk=reminder_id,
            status__in=[ReminderStatus.QUEUED, ReminderStatus.FAILED],
            attempts__lt=MAX_ATTEMPTS,
            claimed_at__isnull=True,
        ).update(claimed_at=timezone.now(), attempts=F("attempts") + 1)
    )


def _record(reminder: Reminder, status: str, error: str = "") -> str:
    reminder.status, reminder.error = status, error
    reminder.sent_at = timezone.now() if status == ReminderStatus.SENT else None
    if status == ReminderStatus.FAILED:
        reminder.claimed_at = None  # released: a later run tries again
    reminder.save(update_fields=["status", "error", "sent_at", "claimed_at"])
    return status


def deliver(reminder_id: int) -> str | None:
    """Send one queued (or failed) reminder if this call claims it; its new status, or
    None when another run has it (or it is not to be sent). Outside every transaction."""
    if not _claim(reminder_id):
        return None
    reminder = Reminder.objects.select_related("invoice", "invoice__account").get(pk=reminder_id)
    why = not_remindable(reminder.invoice)
    if why is None and DunningExclusion.objects.filter(account_id=reminder.account_id).exists():
        why = "its account is excluded from reminders"
    if why:  # settled, cancelled or disputed since it was decided: never sent after that
        return _record(reminder, ReminderStatus.SKIPPED, f"Not sent: {why}.")
    try:
        send_mail(
            reminder.subject,
            reminder.body,
            settings.DEFAULT_FROM_EMAIL,
            [reminder.sent_to],
            fail_silently=False,
        )
    except Exception as exc:  # the mail server refused or did not answer
        error = str(exc) or exc.__class__.__name__
        logger.exception("reminder %s to %s failed", reminder.pk, reminder.sent_to)
        return _record(reminder, ReminderStatus.FAILED, error)
    return _record(reminder, ReminderStatus.SENT)


def deliver_all(reminder_ids, counts: dict | None = None) -> dict:
    """Deliver each; add the outcomes to ``counts`` (``sent``, ``failed``, ``skipped``)."""
    counts = counts if counts is not None else {}
    for reminder_id in reminder_ids:
        status = deliver(reminder_id)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def deliver_pending(*, limit: int = 500, counts: dict | None = None) -> dict:
    """Reminders decided but not delivered: queued and never claimed (the process
    stopped between its commit and the send), or failed with attempts left."""
    rows = (
        Reminder.objects.filter(
            Q(status=ReminderStatus.QUEUED) | Q(status=ReminderStatus.FAILED),
            attempts__lt=MAX_ATTEMPTS,
            claimed_at__isnull=True,
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return deliver_all(list(rows), counts)
