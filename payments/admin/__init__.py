from . import gateways, invoices, wallets  # noqa: F401  (and re-register with payment use cases)
from .payments import PaymentAdmin, PaymentTransitionAdmin

__all__ = ["PaymentAdmin", "PaymentTransitionAdmin"]
