from .auto_top_ups import AutoTopUpRun
from .billing_runs import BillingRun, BillingRunItem, ItemStatus, RunStatus
from .credit_notes import RefundCreditNote
from .dunning import DunningExclusion, Reminder, ReminderLevel, ReminderStatus, ReminderTrigger
from .gateways import (
    CallKind,
    CallStatus,
    EventStatus,
    GatewayCall,
    GatewayEvent,
    LinkState,
    PaymentLink,
    SandboxEvent,
)
from .mandates import Mandate, MandateStatus
from .payments import (
    ALLOWED_STATUSES,
    Direction,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PaymentType,
)
from .receipts import ReceiptKind, ReceiptSnapshot
from .records import PaymentAllocation, PaymentBatch, PaymentTransition

__all__ = [
    "AutoTopUpRun",
    "BillingRun",
    "BillingRunItem",
    "ItemStatus",
    "RunStatus",
    "ALLOWED_STATUSES",
    "CallKind",
    "CallStatus",
    "DunningExclusion",
    "GatewayCall",
    "EventStatus",
    "GatewayEvent",
    "LinkState",
    "Mandate",
    "MandateStatus",
    "PaymentLink",
    "SandboxEvent",
    "Direction",
    "Payment",
    "PaymentAllocation",
    "PaymentBatch",
    "PaymentMethod",
    "PaymentStatus",
    "PaymentTransition",
    "PaymentType",
    "ReceiptKind",
    "Reminder",
    "ReminderLevel",
    "ReminderStatus",
    "ReminderTrigger",
    "ReceiptSnapshot",
    "RefundCreditNote",
]
