from . import invoices, wallets  # noqa: F401  (re-register with the payment use cases)
from .payments import PaymentAdmin, PaymentTransitionAdmin

__all__ = ["PaymentAdmin", "PaymentTransitionAdmin"]
