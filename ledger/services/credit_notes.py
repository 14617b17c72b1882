"""Issuing credit notes (SPEC section 3): one per negative ``INVC`` entry, numbered in
its own gapless series, with its figures frozen when it is issued.

The use cases that post those entries call :func:`issue_credit_notes` inside their own
transaction, holding the account and invoice locks: ``payments.services.cancel_invoice``
(cancellation of an issued invoice) and the refunds of ``payments.services.reversals``
(when the money leaves: at once, or when a gateway confirms its refund). The number
comes from the same locked counter as invoice numbers (``next_number``), taken last and
held until commit, so a rolled-back refund gives its number back.

Lines: a note that credits the invoice's whole total (and is its first note) repeats
the invoice's lines; any other (a part refund, a refund of what was paid after a wallet
prepayment, a cancellation of what is left after a refund) has one line naming the
invoice and the amount.
"""

from django.utils import timezone

from ..errors import StateConflict
from ..models import CreditNote, CreditNoteReason, EntryKind, Invoice, LedgerEntry
from ..models.credit_notes import COUNTER_KEY, PREFIX
from .actors import Actor
from .invoice_changes import plain
from .invoices import next_number

LINE_WORDS = {
    CreditNoteReason.REFUND: "Refund of invoice {number} (part)",
    CreditNoteReason.CANCELLATION: "Cancellation of invoice {number} (amount still owed)",
}


def _money(value) -> str:
    return plain(value)


def credit_lines(invoice: Invoice, total, reason: CreditNoteReason) -> list[dict]:
    """The lines a note crediting ``total`` of ``invoice`` carries (see the module)."""
    if total == invoice.total and not invoice.credit_notes.exists():
        return [
            {
                "description": line.description,
                "quantity": plain(line.quantity),
                "unit_price": _money(line.unit_price),
                "amount": _money(line.amount),
            }
            for line in invoice.lines.all()
        ]
    words = LINE_WORDS[CreditNoteReason(reason)].format(number=invoice.number)
    amount = _money(total)
    return [{"description": words, "quantity": "1", "unit_price": amount, "amount": amount}]


def _figures(entry, invoice, number, total, reason, note, refund_number) -> dict:
    account = invoice.account
    return {
        "number": number,
        "issued_at": entry.posted_at.isoformat(),
        "issue_date": timezone.localdate(entry.posted_at).isoformat(),
        "reason": str(reason),
        "reason_label": CreditNoteReason(reason).label,
        "note": note,
        "refund": refund_number,
        "currency": invoice.currency,
        "total": _money(total),
        "account": {
            "name": account.name,
            "email": account.email,
            "external_ref": account.external_ref or "",
        },
        "invoice": {
            "number": invoice.number,
            "issue_date": plain(invoice.issue_date),
            "total": _money(invoice.total),
        },
        "entry": {"reference": entry.reference, "seq": entry.seq},
        "lines": credit_lines(invoice, total, reason),
    }


def issue_credit_note(
    *,
    entry: LedgerEntry,
    reason: CreditNoteReason,
    actor: Actor,
    note: str = "",
    refund_number: str = "",
) -> CreditNote:
    """The credit note explaining ``entry`` (a negative ``INVC`` of an issued invoice);
    the caller holds the account and invoice locks, inside its transaction."""
    if entry.kind != EntryKind.INVOICE or entry.debit.amount >= 0 or entry.invoice_id is None:
        raise StateConflict(
            f"Entry {entry}: only a negative INVC entry of an invoice takes a credit note.",
            field="entry",
        )
    invoice = Invoice.objects.select_related("account").get(pk=entry.invoice_id)
    total = -entry.debit
    seq_no, _key = next_number(COUNTER_KEY)
    number = f"{PREFIX}-{seq_no:06d}"
    return CreditNote.objects.create(
        account_id=entry.account_id,
        invoice=invoice,
        entry=entry,
        seq_no=seq_no,
        number=number,
        reason=reason,
        currency=invoice.currency,
        total=total,
        issued_at=entry.posted_at,
        figures=_figures(entry, invoice, number, total, reason, note, refund_number),
        actor_id=actor.user_id,
        actor_label=actor.label[:150],
    )


def issue_credit_notes(
    *,
    entries,
    reason: CreditNoteReason,
    actor: Actor,
    note: str = "",
    refund_number: str = "",
) -> list[CreditNote]:
    """A credit note for each negative ``INVC`` entry among ``entries`` (in order)."""
    return [
        issue_credit_note(
            entry=entry, reason=reason, actor=actor, note=note, refund_number=refund_number
        )
        for entry in entries
        if entry.kind == EntryKind.INVOICE and entry.debit.amount < 0
    ]
