"""The ``invoice.overdue`` event: once per invoice, when an open invoice (money owed)
has passed its due date (SPEC section 4, docs/RULES.md *What an invoice owes*).

The once is in the database: ``Invoice.overdue_announced_at`` is set in the same
transaction as the event, and only invoices where it is NULL are taken.
"""

from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events import services as events
from ledger.models import Invoice
from ledger.models.invoices import OPEN
from ledger.selectors import is_overdue


def _due_unannounced(today: date) -> Q:
    """Open invoices (due, partially paid, disputed: they owe money) past their due
    date and not announced yet; the admin's ``overdue_q`` with the marker."""
    return Q(status__in=OPEN, due_date__lt=today, overdue_announced_at__isnull=True)


def announce_overdue_invoices(*, today: date | None = None, batch: int = 200) -> int:
    """Write one ``invoice.overdue`` event for each overdue invoice not announced yet;
    returns how many.

    Each batch is one transaction: it takes its invoices with ``FOR NO KEY UPDATE SKIP
    LOCKED`` (several workers never wait for or take the same invoice; one a service
    holds is skipped and taken by the next run), sets their marker and emits. No account
    lock: the emit needs none (its counter row serialises the numbering, taken last),
    and the invoice lock is taken without waiting, so it cannot deadlock against the
    account -> invoice order of the other services. The events are written in account
    order, so two runs take the accounts' counter rows in the same order.
    """
    today = today or timezone.localdate()
    announced, after = 0, 0
    while True:
        with transaction.atomic():
            rows = list(
                Invoice.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(_due_unannounced(today), pk__gt=after)
                .order_by("id")[:batch]
            )
            if not rows:
                return announced
            after = rows[-1].pk  # an open invoice owing nothing is not taken again
            due = sorted(
                (i for i in rows if is_overdue(i, today)), key=lambda i: (i.account_id, i.pk)
            )
            Invoice.objects.filter(pk__in=[i.pk for i in due]).update(
                overdue_announced_at=timezone.now()
            )
            for invoice in due:
                events.emit_invoice_overdue(invoice)
            announced += len(due)
        if len(rows) < batch:
            return announced
