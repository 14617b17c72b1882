"""Every write of the wallets app (SPEC section 6). One transaction per operation."""

from .alerts import set_low_balance_alert
from .auto_top_up_rules import clear_auto_top_up, set_auto_top_up
from .core import (
    close_wallet,
    create_wallet,
    lock_wallet,
    lock_wallet_and_account,
    take_back,
    top_up,
    transfer_to_credit,
    usage_drawdown,
)
from .invoices import (
    add_ongoing_line,
    apply_to_invoice,
    capture_holds,
    follow_invoice,
    release_hold,
    release_holds,
    remove_ongoing_line,
    update_ongoing_line,
)

__all__ = [
    "add_ongoing_line",
    "apply_to_invoice",
    "capture_holds",
    "clear_auto_top_up",
    "close_wallet",
    "create_wallet",
    "follow_invoice",
    "lock_wallet",
    "lock_wallet_and_account",
    "release_hold",
    "release_holds",
    "set_auto_top_up",
    "set_low_balance_alert",
    "remove_ongoing_line",
    "take_back",
    "top_up",
    "transfer_to_credit",
    "update_ongoing_line",
    "usage_drawdown",
]
