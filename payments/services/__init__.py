"""Every write of the payments app (SPEC section 5). One transaction per operation."""

from .completion import (
    complete_gateway_payment,
    mark_invoice_paid,
    mark_payment_paid,
    record_payment,
)
from .credit import assign_payment, pay_from_balance, pay_invoice_from_balance
from .gateway_flows import (
    create_payment_link,
    force_direct_debit,
    link_token,
    pay_link,
    resolve_link,
    start_card_payment,
    start_direct_debit,
)
from .groups import record_group_payment
from .issuing import issue_invoice
from .lifecycle import (
    approve_by_erp,
    cancel_invoice,
    cancel_payment,
    create_receipt,
    expire_due_payments,
    send_receipt,
)
from .mandates import create_mandate, revoke_mandate
from .overdue import announce_overdue_invoices
from .reversals import record_dispute, refund_invoice, refund_payment
from .transitions import available_transitions, check_permission, refusal
from .wallet_flows import apply_wallet, request_wallet_top_up

__all__ = [
    "announce_overdue_invoices",
    "apply_wallet",
    "approve_by_erp",
    "assign_payment",
    "available_transitions",
    "cancel_invoice",
    "cancel_payment",
    "check_permission",
    "complete_gateway_payment",
    "create_mandate",
    "create_payment_link",
    "create_receipt",
    "expire_due_payments",
    "force_direct_debit",
    "issue_invoice",
    "link_token",
    "mark_invoice_paid",
    "mark_payment_paid",
    "pay_from_balance",
    "pay_invoice_from_balance",
    "pay_link",
    "record_dispute",
    "record_group_payment",
    "record_payment",
    "refund_invoice",
    "refund_payment",
    "refusal",
    "resolve_link",
    "revoke_mandate",
    "request_wallet_top_up",
    "send_receipt",
    "start_card_payment",
    "start_direct_debit",
]
