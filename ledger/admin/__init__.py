"""Staff admin of the ledger app: accounts (with their Payments tab), account groups and
the read-only ledger entries. The invoice admin's forms are here (``invoice_forms``);
the invoice admin is registered by ``payments``, whose use cases its actions are."""

from .accounts import AccountAdmin, AccountGroupAdmin
from .entries import LedgerEntryAdmin

__all__ = ["AccountAdmin", "AccountGroupAdmin", "LedgerEntryAdmin"]
