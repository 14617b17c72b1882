"""Invoice lifecycle in the ledger: drafts and their lines, open, issue, cancel.

Use cases that also touch payments or wallets (applying credit at issue, capturing
holds) live in those apps and call these functions inside their own transaction.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed
from moneyed import Money

from events import services as events
from events.models import EventType

from ..errors import InvalidInput, StateConflict
from ..locks import lock_invoice, lock_row
from ..models import (
    Account,
    EntryKind,
    Invoice,
    InvoiceAction,
    InvoiceLine,
    InvoiceStatus,
)
from ..models.invoices import EDITABLE, POSTED
from ..money import round_money
from ..validation import (
    clean_description,
    clean_period,
    clean_quantity,
    clean_series,
    clean_unit_price,
)
from .actors import Actor
from .invoice_changes import diff, header, line_figures, record_change
from .issue_steps import (
    ISSUED_FIELDS,
    check_issuable,
    invoice_posting,
    issued_change,
    mark_issued,
    next_number,
)
from .posting import Posting, post


@dataclass(frozen=True)
class LineSpec:
    description: str
    quantity: Decimal | str | int
    unit_price: Money | Decimal | str | int


def _build_line(invoice: Invoice, spec: LineSpec, position: int, where: str) -> InvoiceLine:
    quantity = clean_quantity(spec.quantity, field=f"{where}.quantity")
    price = clean_unit_price(spec.unit_price, invoice.currency, field=f"{where}.unit_price")
    return InvoiceLine(
        invoice=invoice,
        position=position,
        description=clean_description(spec.description, field=f"{where}.description"),
        quantity=quantity,
        currency=invoice.currency,
        unit_price=price,
        amount=round_money(quantity * price.amount, invoice.currency),
        prepaid_amount=Money(0, invoice.currency),
    )


def _require_editable(invoice: Invoice, action: str) -> None:
    if invoice.status not in EDITABLE:
        raise StateConflict(
            f"Invoice {invoice} is {invoice.get_status_display().lower()}: {action} is only "
            "possible on draft or ongoing invoices.",
            field="status",
        )


def _refresh_total(invoice: Invoice) -> None:
    total = Money(0, invoice.currency)
    for amount in invoice.lines.values_list("amount", flat=True):
        total += Money(amount, invoice.currency)
    invoice.total = total
    invoice.save(update_fields=["total", "currency"])


def create_invoice(
    *,
    account: Account,
    actor: Actor,
    lines=(),
    due_date: date | None = None,
    description: str = "",
    series: str = "INV",
    is_prepaid_order: bool = False,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Invoice:
    """Create a draft invoice with its lines (and the billing period it covers, for an
    invoice that will be ongoing)."""
    series = clean_series(series)
    period_start, period_end = clean_period(period_start, period_end)
    with transaction.atomic():
        invoice = Invoice.objects.create(
            account=account,
            currency=account.currency,
            total=Money(0, account.currency),
            amount_paid=Money(0, account.currency),
            amount_credited=Money(0, account.currency),
            series=series,
            due_date=due_date,
            description=(description or "")[:255],
            is_prepaid_order=is_prepaid_order,
            period_start=period_start,
            period_end=period_end,
            created_by=actor.user,
        )
        built = [_build_line(invoice, spec, i, f"lines[{i}]") for i, spec in enumerate(lines)]
        InvoiceLine.objects.bulk_create(built)
        _refresh_total(invoice)
        lines = [line_figures(line) for line in invoice.lines.all()]
        record_change(invoice, InvoiceAction.CREATE, actor, {**header(invoice), "lines": lines})
        return invoice


HEADER_FIELDS = (
    "description",
    "due_date",
    "series",
    "is_prepaid_order",
    "period_start",
    "period_end",
)


def update_invoice(*, invoice: Invoice | int, actor: Actor, **changes) -> Invoice:
    """Change a draft or ongoing invoice's header (description, due date, series,
    prepaid-order flag, billing period) under the account and invoice locks."""
    unknown = sorted(set(changes) - set(HEADER_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not an editable invoice field.", field=unknown[0])
    if "series" in changes:
        changes["series"] = clean_series(changes["series"])
    if "description" in changes:
        changes["description"] = (changes["description"] or "")[:255]
    with transaction.atomic():
        _account, locked = lock_invoice(invoice)
        _require_editable(locked, "editing")
        before = header(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        clean_period(locked.period_start, locked.period_end)
        if changes:
            locked.save(update_fields=list(changes))
            record_change(locked, InvoiceAction.UPDATE, actor, diff(before, header(locked)))
        return locked


def add_line(*, invoice: Invoice | int, line: LineSpec, actor: Actor) -> InvoiceLine:
    with transaction.atomic():
        _account, locked = lock_invoice(invoice)
        _require_editable(locked, "adding a line")
        position = locked.lines.count()
        new = _build_line(locked, line, position, "line")
        new.save()
        _refresh_total(locked)
        record_change(locked, InvoiceAction.ADD_LINE, actor, {"line": line_figures(new)})
        return new


def update_line(
    *,
    line: InvoiceLine | int,
    actor: Actor,
    quantity=None,
    unit_price=None,
    description: str | None = None,
) -> InvoiceLine:
    """Change a line of a draft or ongoing invoice (consumption updates the quantity)."""
    line_id = line.pk if isinstance(line, InvoiceLine) else line
    invoice_id = InvoiceLine.objects.values_list("invoice_id", flat=True).get(pk=line_id)
    with transaction.atomic():
        _account, invoice = lock_invoice(invoice_id)
        _require_editable(invoice, "changing a line")
        locked = lock_row(InvoiceLine, line_id)
        before = line_figures(locked)
        spec = LineSpec(
            description=locked.description if description is None else description,
            quantity=locked.quantity if quantity is None else quantity,
            unit_price=locked.unit_price if unit_price is None else unit_price,
        )
        fresh = _build_line(invoice, spec, locked.position, "line")
        locked.description, locked.quantity = fresh.description, fresh.quantity
        locked.unit_price, locked.amount = fresh.unit_price, fresh.amount
        locked.save(update_fields=["description", "quantity", "unit_price", "amount", "currency"])
        _refresh_total(invoice)
        changed = {"line": line_id, **diff(before, line_figures(locked))}
        record_change(invoice, InvoiceAction.UPDATE_LINE, actor, changed)
        return locked


def remove_line(*, line: InvoiceLine | int, actor: Actor) -> None:
    line_id = line.pk if isinstance(line, InvoiceLine) else line
    invoice_id = InvoiceLine.objects.values_list("invoice_id", flat=True).get(pk=line_id)
    with transaction.atomic():
        _account, invoice = lock_invoice(invoice_id)
        _require_editable(invoice, "removing a line")
        removed = line_figures(lock_row(InvoiceLine, line_id))
        InvoiceLine.objects.filter(pk=line_id).delete()
        _refresh_total(invoice)
        record_change(invoice, InvoiceAction.REMOVE_LINE, actor, {"line": removed})


def open_invoice(*, invoice: Invoice | int, actor: Actor) -> Invoice:
    """draft -> ongoing: the invoice is open and follows consumption until issued."""
    with transaction.atomic():
        _account, locked = lock_invoice(invoice)
        if not can_proceed(locked._open):
            raise StateConflict(
                f"Invoice {locked} is {locked.get_status_display().lower()}: only a draft "
                "can be opened as ongoing.",
                field="status",
            )
        locked._open()
        locked.save(update_fields=["status"])
        record_change(locked, InvoiceAction.OPEN, actor, {"status": ["draft", locked.status]})
        return locked


def post_invoice(
    *,
    invoice: Invoice | int,
    actor: Actor,
    at: datetime | None = None,
    due_date: date | None = None,
) -> tuple[Invoice, list]:
    """draft/ongoing -> due: number the invoice and post its ``INVC`` debit — the ledger's
    half of issuing (the whole use case is ``payments.services.issue_invoice``).

    Returns the invoice and the posted entries. Call it inside a larger transaction to
    add the use cases of other apps (credit application, wallet capture).
    """
    with transaction.atomic():
        account, locked = lock_invoice(invoice)
        check_issuable(locked)
        when = at or timezone.now()
        mark_issued(locked, account, next_number(locked.series), when, due_date)
        locked.save(update_fields=ISSUED_FIELDS)
        record_change(locked, InvoiceAction.POST, actor, issued_change(locked), at=when)
        entries = post(account=account, postings=[invoice_posting(locked)], actor=actor, at=at)
        return locked, entries


def void_invoice(
    *, invoice: Invoice | int, actor: Actor, reason: str = "", at: datetime | None = None
) -> tuple[Invoice, list]:
    """The ledger's half of cancelling an invoice on which nothing was paid or prepaid
    (the whole use case, with holds released and payments cancelled, is
    ``payments.services.cancel_invoice``).

    A posted invoice gets a negative ``INVC`` debit for what it still owed, which raises
    the balance back. Returns the invoice and the posted entries (none for a draft).
    """
    with transaction.atomic():
        account, locked = lock_invoice(invoice)
        status = locked.get_status_display().lower()
        if locked.amount_credited.amount > 0:
            raise StateConflict(
                f"Invoice {locked} cannot be cancelled: wallet prepayment of "
                f"{locked.amount_credited} was applied to it (prepayment credit memos cannot "
                "be cancelled); refund instead.",
                field="status",
            )
        if not can_proceed(locked._cancel):
            raise StateConflict(
                f"Invoice {locked} is {status}: only draft, ongoing or due invoices with "
                "nothing paid can be cancelled.",
                field="status",
            )
        if locked.amount_paid.amount > 0:
            raise StateConflict(
                f"Invoice {locked} cannot be cancelled: {locked.amount_paid} was paid on it; "
                "refund it instead.",
                field="status",
            )
        was_posted = locked.number is not None
        locked._cancel()
        locked.cancelled_at = at or timezone.now()
        locked.cancel_reason = (reason or "")[:255]
        locked.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        voided = {"status": [status, "cancelled"], "reason": locked.cancel_reason}
        record_change(locked, InvoiceAction.VOID, actor, voided, at=locked.cancelled_at)
        entries = []
        if was_posted:
            entries = post(
                account=account,
                postings=[
                    Posting(
                        kind=EntryKind.INVOICE,
                        amount=-locked.amount_due,
                        reference=locked.reference,
                        description=f"Invoice {locked.number} cancelled"
                        + (f": {reason}" if reason else ""),
                        invoice=locked,
                    )
                ],
                actor=actor,
                at=at,
            )
        return locked, entries


def settle_invoice(
    *,
    invoice: Invoice,
    paid=None,
    refunded=None,
    credited=None,
    disputed: bool = False,
) -> Invoice:
    """Move an invoice's paid / refunded / credited amounts and recompute its status.

    ``invoice`` must be locked by the caller (``lock_invoice``). Deltas are Money in the
    invoice currency, may be negative; the result may never overpay the invoice. Status:
    nothing due -> ``paid`` (``refunded`` when all of it was refunded); a dispute keeps it
    ``disputed`` until nothing is due; some money -> ``partially_paid``; else ``due``.
    """
    became_paid = apply_settlement(
        invoice, paid=paid, refunded=refunded, credited=credited, disputed=disputed
    )
    invoice.save(
        update_fields=["status", "amount_paid", "amount_refunded", "amount_credited", "currency"]
    )
    if became_paid:  # wherever the money came from: one place an invoice becomes paid
        events.emit(
            EventType.INVOICE_PAID, account=invoice.account_id, objects={"invoice": invoice}
        )
    return invoice


def apply_settlement(
    invoice: Invoice, *, paid=None, refunded=None, credited=None, disputed: bool = False
) -> bool:
    """``settle_invoice``'s rule, in memory (the caller saves and announces): move the
    amounts, move the status; return whether the invoice just became paid."""
    if invoice.status not in POSTED:
        raise StateConflict(
            f"Invoice {invoice} is {invoice.get_status_display().lower()}: it does not take "
            "payments.",
            field="invoice",
        )
    zero = Money(0, invoice.currency)
    invoice.amount_paid += paid or zero
    invoice.amount_refunded += refunded or zero
    invoice.amount_credited += credited or zero
    for name in ("amount_paid", "amount_refunded", "amount_credited"):
        if getattr(invoice, name).amount < 0:
            raise StateConflict(f"Invoice {invoice}: {name} cannot go below zero.", field=name)
    due = invoice.amount_due.amount
    if due < 0:
        raise StateConflict(
            f"Invoice {invoice}: this would pay {-due} more than is due.", field="amount"
        )
    if due == 0:
        fully_refunded = invoice.amount_refunded.amount > 0 and invoice.amount_paid.amount == 0
        target = InvoiceStatus.REFUNDED if fully_refunded else InvoiceStatus.PAID
    elif disputed or invoice.status == InvoiceStatus.DISPUTED:
        target = InvoiceStatus.DISPUTED
    elif invoice.amount_paid.amount + invoice.amount_credited.amount > 0:
        target = InvoiceStatus.PARTIALLY_PAID
    else:
        target = InvoiceStatus.DUE
    became_paid = target == InvoiceStatus.PAID and invoice.status != InvoiceStatus.PAID
    invoice._settle(target)
    return became_paid
