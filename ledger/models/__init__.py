from .accounts import Account, AccountGroup
from .credit_notes import CreditNote, CreditNoteReason
from .entries import EntryKind, LedgerEntry
from .invoice_changes import InvoiceAction, InvoiceChange
from .invoices import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus

__all__ = [
    "Account",
    "AccountGroup",
    "CreditNote",
    "CreditNoteReason",
    "EntryKind",
    "Invoice",
    "InvoiceAction",
    "InvoiceChange",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceStatus",
    "LedgerEntry",
]
