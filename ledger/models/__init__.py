from .accounts import Account, AccountGroup
from .entries import EntryKind, LedgerEntry
from .invoices import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus

__all__ = [
    "Account",
    "AccountGroup",
    "EntryKind",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceStatus",
    "LedgerEntry",
]
