"""Recording invoice changes (``InvoiceChange``): who changed what, when.

Called by every invoice service (``ledger.services.invoices``) inside its transaction,
under the invoice lock, so a change and its log row commit or roll back together.
Values are stored as JSON-safe text: money and quantities as decimal strings, dates in
ISO format.
"""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from moneyed import Money

from ..models import Invoice, InvoiceAction, InvoiceChange, InvoiceLine
from ..money import plain as plain_money
from .actors import Actor

HEADER = ("description", "due_date", "series", "is_prepaid_order", "period_start", "period_end")


def plain(value):
    """A JSON-safe form of a field value."""
    if isinstance(value, Money):
        return plain_money(value)
    if isinstance(value, Decimal):  # a quantity: "2", "1.5"
        whole = value == value.to_integral()
        return str(value.quantize(Decimal(1)) if whole else value.normalize())
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def header(invoice: Invoice) -> dict:
    return {name: plain(getattr(invoice, name)) for name in HEADER}


def line_figures(line: InvoiceLine) -> dict:
    return {
        "id": line.pk,
        "position": line.position,
        "description": line.description,
        "quantity": plain(line.quantity),
        "unit_price": plain(line.unit_price),
        "amount": plain(line.amount),
    }


def diff(before: dict, after: dict) -> dict:
    """``{"field": [before, after]}`` for every field that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record_change(
    invoice: Invoice, action: InvoiceAction, actor: Actor, changes: dict | None = None, at=None
) -> InvoiceChange:
    """Append one change of ``invoice`` (locked by the caller) by ``actor``."""
    row = change_row(invoice, action, actor, changes, at)
    row.save()
    return row


def change_row(
    invoice: Invoice, action: InvoiceAction, actor: Actor, changes: dict | None = None, at=None
) -> InvoiceChange:
    """The change row, unsaved (``record_change`` saves one; a batch bulk-inserts)."""
    return InvoiceChange(
        invoice_id=invoice.pk,
        account_id=invoice.account_id,
        action=action,
        at=at or timezone.now(),
        actor_id=actor.user_id,
        actor_label=actor.label[:150],
        changes={k: plain(v) for k, v in (changes or {}).items()},
    )
