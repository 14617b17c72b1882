"""Every write of the ledger app. One function per business operation, keyword-only
arguments, one transaction each; the only code that posts ledger entries."""

from .accounts import create_account, create_group
from .actors import Actor, system_actor, user_actor
from .invoices import (
    LineSpec,
    add_line,
    cancel_invoice,
    create_invoice,
    issue_invoice,
    lock_invoice,
    next_number,
    open_invoice,
    remove_line,
    settle_invoice,
    update_line,
)
from .posting import Posting, lock_account, post

__all__ = [
    "Actor",
    "LineSpec",
    "Posting",
    "add_line",
    "cancel_invoice",
    "create_account",
    "create_group",
    "create_invoice",
    "issue_invoice",
    "lock_account",
    "lock_invoice",
    "next_number",
    "open_invoice",
    "post",
    "remove_line",
    "settle_invoice",
    "system_actor",
    "update_line",
    "user_actor",
]
