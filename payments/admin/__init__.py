from . import wallets  # noqa: F401  (re-registers the wallet admin with payment use cases)
from .payments import PaymentAdmin, PaymentTransitionAdmin

__all__ = ["PaymentAdmin", "PaymentTransitionAdmin"]
