"""What a member reads about an invoice beyond its stored figures (SPEC section 4): what
it owes now — a cancelled invoice nothing, an ongoing one nothing *yet* — whether it is
**overdue** (past its due date with money still owed), and whether *Pay now* is offered
(issued, money owed, not waiting for the ERP's approval, a card gateway configured).

``invoice_views`` reads a whole page of invoices with one extra query (which of them
wait for the ERP), whatever the number of rows.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from moneyed import Money

from ledger.models import Invoice, InvoiceStatus
from ledger.models.invoices import OPEN
from payments import gateways
from payments.models import Payment, PaymentStatus


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    owed: Money | None  # None: nothing owed yet (an ongoing invoice still follows usage)
    overdue_days: int  # 0 unless overdue
    payable: bool

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def owed(invoice: Invoice) -> Money | None:
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.ONGOING):
        return None
    if invoice.status == InvoiceStatus.CANCELLED:
        return Money(0, invoice.currency)
    return invoice.amount_due


def overdue_days(invoice: Invoice, today: date) -> int:
    """Days past the due date while money is owed on an issued invoice, else 0."""
    if invoice.status not in OPEN or invoice.due_date is None:
        return 0
    if invoice.amount_due.amount <= 0 or invoice.due_date >= today:
        return 0
    return (today - invoice.due_date).days


def card_payments_on() -> bool:
    try:
        gateways.for_method("card")
    except LookupError:
        return False
    return True


def _awaiting_erp(invoices: list[Invoice]) -> set[int]:
    ids = [i.pk for i in invoices if i.status in OPEN]
    if not ids:
        return set()
    return set(
        Payment.objects.filter(
            invoice_id__in=ids, direction="incoming", status=PaymentStatus.PENDING_BILLING
        ).values_list("invoice_id", flat=True)
    )


def invoice_views(invoices, *, today: date | None = None) -> list[InvoiceView]:
    invoices = list(invoices)
    today = today or timezone.localdate()
    waiting_erp = _awaiting_erp(invoices)
    cards = card_payments_on()
    return [
        InvoiceView(
            invoice=invoice,
            owed=owed(invoice),
            overdue_days=overdue_days(invoice, today),
            payable=(
                cards
                and invoice.status in OPEN
                and invoice.amount_due.amount > 0
                and invoice.pk not in waiting_erp
            ),
        )
        for invoice in invoices
    ]
