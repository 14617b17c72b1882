"""Reads of the payments app that span the domain apps: an account's whole position,
the preview of a group payment, an account's direct-debit mandates, and the timelines
of invoices and payments.

``account_position(account)`` is the one computation the staff account page, the member
home and the API show (see docs/OPERATIONS.md for its shape)."""

from .groups import GroupPlan, group_currency, group_payment_plan
from .mandates import active_mandate, mandates_of
from .position import AccountPosition, OwedInvoice, WalletPosition, account_position
from .timeline import Event, invoice_timeline, payment_timeline, status_label, transition_label

__all__ = [
    "AccountPosition",
    "Event",
    "GroupPlan",
    "OwedInvoice",
    "WalletPosition",
    "account_position",
    "active_mandate",
    "mandates_of",
    "group_currency",
    "group_payment_plan",
    "invoice_timeline",
    "payment_timeline",
    "status_label",
    "transition_label",
]
