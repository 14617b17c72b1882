from .accounts import Account, AccountGroup
from .api_keys import ApiKey, ApiScope, IdempotencyRecord
from .entries import EntryKind, LedgerEntry
from .invoices import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus

__all__ = [
    "Account",
    "AccountGroup",
    "ApiKey",
    "ApiScope",
    "EntryKind",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceStatus",
    "LedgerEntry",
]
