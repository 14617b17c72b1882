"""Credit note documents (SPEC section 3): a credit note's PDF, rendered by the one
renderer from the figures frozen when the note was issued (``ledger.CreditNote``) —
the account, the invoice, the lines, the issue time — and nothing read today, so staff
and member download the same bytes, now and later."""

from django.template.loader import render_to_string
from django.utils.dateparse import parse_date, parse_datetime
from moneyed import Money

from ledger.models import CreditNote

from .pdf import pdf_download, render_pdf


def credit_note_context(note: CreditNote) -> dict:
    figures = note.figures
    currency = figures["currency"]
    lines = [
        {
            **line,
            "unit_price": Money(line["unit_price"], currency),
            "amount": Money(line["amount"], currency),
        }
        for line in figures["lines"]
    ]
    return {
        "note": figures,
        "lines": lines,
        "total": Money(figures["total"], currency),
        "invoice_total": Money(figures["invoice"]["total"], currency),
        "invoice_issue_date": parse_date(figures["invoice"]["issue_date"] or ""),
        "issued_at": parse_datetime(figures["issued_at"]),
    }


def render_credit_note_html(note: CreditNote) -> str:
    return render_to_string("documents/credit_note.html", credit_note_context(note))


def render_credit_note_pdf(note: CreditNote) -> bytes:
    return render_pdf(render_credit_note_html(note))


def credit_note_download(note: CreditNote, *, inline: bool = False):
    """The PDF as a response: the same bytes for every reader."""
    return pdf_download(render_credit_note_pdf(note), f"{note.number}.pdf", inline=inline)
