"""The steps of issuing an invoice, shared by ``post_invoice`` (one invoice) and the
billing run's batches (``payments.services.batch_issue``): gapless numbers, the issued
fields, the ``POST`` change and the ``INVC`` posting."""

from datetime import timedelta

from django.utils import timezone
from django_fsm import can_proceed

from ..errors import InvalidInput, StateConflict
from ..models import Account, EntryKind, Invoice, InvoiceCounter
from ..money import format_money
from .posting import Posting


def next_number(series: str) -> tuple[int, str]:
    """Take the next gapless number of ``series`` (inside the caller's transaction):
    ``(7, "INV-000007")``. The counter row stays locked until the transaction ends, so
    a rollback gives the number back."""
    return take_numbers(series, 1)[0]


def take_numbers(series: str, count: int) -> list[tuple[int, str]]:
    """Take the next ``count`` gapless numbers of ``series`` at once (the billing run's
    batches), the counter row locked until the transaction ends."""
    InvoiceCounter.objects.bulk_create([InvoiceCounter(series=series)], ignore_conflicts=True)
    counter = InvoiceCounter.objects.select_for_update(no_key=True).get(series=series)
    first = counter.last_value + 1
    counter.last_value += count
    counter.save(update_fields=["last_value"])
    return [(n, f"{series}-{n:06d}") for n in range(first, counter.last_value + 1)]


def mark_issued(invoice: Invoice, account: Account, number: tuple[int, str], when, due_date=None):
    """Give the locked invoice its number, issue date and due date, and move it to
    ``due`` (in memory; the caller saves). The due date: the one given, else the one it
    had, else the account's payment terms after the issue date."""
    invoice.seq_no, invoice.number = number
    invoice.issue_date = timezone.localdate(when)
    invoice.issued_at = when
    if due_date is not None:
        invoice.due_date = due_date
    elif invoice.due_date is None:
        invoice.due_date = invoice.issue_date + timedelta(days=account.payment_terms_days)
    invoice._issue()


ISSUED_FIELDS = ["status", "seq_no", "number", "issue_date", "issued_at", "due_date"]


def issued_change(invoice: Invoice) -> dict:
    """What the invoice's ``POST`` change records."""
    return {k: getattr(invoice, k) for k in ("number", "issue_date", "due_date", "total")}


def invoice_posting(invoice: Invoice) -> Posting:
    """The issued invoice's ``INVC`` debit."""
    label = f"Invoice {invoice.number}" + (
        f" — {invoice.description}" if invoice.description else ""
    )
    return Posting(
        kind=EntryKind.INVOICE,
        amount=invoice.total,
        reference=invoice.reference,
        description=label,
        invoice=invoice,
    )


def check_issuable(invoice: Invoice) -> None:
    """Refuse to issue an invoice that is not draft or ongoing, or charges nothing."""
    if not can_proceed(invoice._issue):
        raise StateConflict(
            f"Invoice {invoice} is {invoice.get_status_display().lower()}: only draft or "
            "ongoing invoices can be issued.",
            field="status",
        )
    if invoice.total.amount <= 0:
        raise InvalidInput(
            f"{invoice} has nothing to charge (total {format_money(invoice.total)}); "
            "add lines or cancel it.",
            field="lines",
        )
