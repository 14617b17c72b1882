"""Every write of the ledger app. One function per business operation, keyword-only
arguments, one transaction each; the only code that posts ledger entries."""

from .accounts import (
    EDITABLE_FIELDS,
    create_account,
    create_group,
    delete_account,
    has_history,
    update_account,
)
from .actors import Actor, system_actor, user_actor
from .invoices import (
    LineSpec,
    add_line,
    create_invoice,
    lock_invoice,
    next_number,
    open_invoice,
    post_invoice,
    remove_line,
    settle_invoice,
    update_invoice,
    update_line,
    void_invoice,
)
from .posting import Posting, lock_account, post

__all__ = [
    "EDITABLE_FIELDS",
    "Actor",
    "LineSpec",
    "Posting",
    "add_line",
    "create_account",
    "create_group",
    "create_invoice",
    "delete_account",
    "has_history",
    "lock_account",
    "lock_invoice",
    "next_number",
    "open_invoice",
    "post",
    "post_invoice",
    "remove_line",
    "settle_invoice",
    "system_actor",
    "update_account",
    "update_invoice",
    "update_line",
    "user_actor",
    "void_invoice",
]
