"""What a member reads about an invoice beyond its stored figures (SPEC section 4): what
it owes now — a cancelled invoice nothing, an ongoing one nothing *yet* — whether it is
**overdue** (past its due date with money still owed), and whether *Pay now* is offered
(money owed, its payment *waiting for payment* — not waiting for the ERP, not with a
gateway already, not asked for by a bank-transfer receipt — and a card gateway
configured: ``payments.services.member_links``, which refuses the same).

``invoice_views`` reads a whole page of invoices with one extra query (the waiting
payments of its invoices), whatever the number of rows.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from moneyed import Money

from ledger.models import Invoice
from ledger.models.invoices import OPEN, UNPOSTED
from ledger.selectors import amount_owed, is_overdue
from payments import gateways
from payments.models import Payment
from payments.models.payments import WAITING_STATUSES
from payments.services.member_links import card_payable_refusal


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    owed: Money | None  # None: nothing owed yet (an ongoing invoice still follows usage)
    overdue_days: int  # 0 unless overdue
    payable: bool
    payment: Payment | None = None  # the payment waiting for the money owed

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def owed(invoice: Invoice) -> Money | None:
    """``ledger.selectors.amount_owed``, except that an unposted invoice owes nothing
    *yet* (None: the page says so rather than showing £0.00)."""
    if invoice.status in UNPOSTED:
        return None
    return amount_owed(invoice)


def overdue_days(invoice: Invoice, today: date) -> int:
    """Days past the due date while money is owed (``ledger.selectors.is_overdue``)."""
    return (today - invoice.due_date).days if is_overdue(invoice, today) else 0


def card_payments_on() -> bool:
    try:
        gateways.for_method("card")
    except LookupError:
        return False
    return True


def _waiting_payments(invoices: list[Invoice]) -> dict[int, Payment]:
    """Each open invoice's newest waiting payment, in one query."""
    ids = [i.pk for i in invoices if i.status in OPEN]
    if not ids:
        return {}
    waiting = Payment.objects.filter(
        invoice_id__in=ids, direction="incoming", status__in=WAITING_STATUSES
    ).order_by("invoice_id", "id")
    return {payment.invoice_id: payment for payment in waiting}  # the newest wins


def invoice_views(invoices, *, today: date | None = None) -> list[InvoiceView]:
    invoices = list(invoices)
    today = today or timezone.localdate()
    waiting = _waiting_payments(invoices)
    cards = card_payments_on()
    views = []
    for invoice in invoices:
        payment = waiting.get(invoice.pk)
        views.append(
            InvoiceView(
                invoice=invoice,
                owed=owed(invoice),
                overdue_days=overdue_days(invoice, today),
                payable=cards and card_payable_refusal(invoice, payment) is None,
                payment=payment,
            )
        )
    return views
