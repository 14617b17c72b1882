from .payments import PaymentAdmin, PaymentTransitionAdmin

__all__ = ["PaymentAdmin", "PaymentTransitionAdmin"]
