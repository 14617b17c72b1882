"""Staff admin of the ledger app: accounts (with their Payments tab), account groups,
invoices (edited through the services, issued and cancelled by admin actions) and the
read-only ledger entries."""

from .accounts import AccountAdmin, AccountGroupAdmin
from .api_keys import ApiKeyAdmin
from .entries import LedgerEntryAdmin
from .invoices import InvoiceAdmin

__all__ = ["AccountAdmin", "AccountGroupAdmin", "ApiKeyAdmin", "InvoiceAdmin", "LedgerEntryAdmin"]
