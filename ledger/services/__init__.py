"""Every write of the ledger app. One function per business operation, keyword-only
arguments, one transaction each; the only code that posts ledger entries.

The row locks (``lock_account``, ``lock_invoice``) and their order live in
``ledger.locks``; they are re-exported here for the use cases of other apps."""

from ..locks import lock_account, lock_invoice
from .accounts import (
    EDITABLE_FIELDS,
    create_account,
    create_group,
    delete_account,
    has_history,
    update_account,
)
from .actors import Actor, system_actor, user_actor
from .credit_notes import issue_credit_note, issue_credit_notes
from .invoices import (
    LineSpec,
    add_line,
    create_invoice,
    next_number,
    open_invoice,
    post_invoice,
    remove_line,
    settle_invoice,
    update_invoice,
    update_line,
    void_invoice,
)
from .posting import Posting, post

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
    "issue_credit_note",
    "issue_credit_notes",
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
