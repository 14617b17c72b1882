"""The API's payments-level resources: payments and their transitions, the invoice
actions that involve payments or wallets, wallet top-ups and applying wallet money."""

from .invoices import InvoiceViewSet
from .payments import PaymentViewSet
from .wallets import WalletViewSet

__all__ = ["InvoiceViewSet", "PaymentViewSet", "WalletViewSet"]
