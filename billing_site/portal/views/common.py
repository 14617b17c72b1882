"""What every member page shares: the account the member may read, its balance words."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from ledger.models import Account
from ledger.selectors import accounts_visible_to
from ledger.statements import balance_words


def member_account(request: HttpRequest, account_id: int) -> Account:
    """The account if the logged-in member may read it, else 404 (never 403: a member
    cannot tell another account's id from one that does not exist)."""
    return get_object_or_404(accounts_visible_to(request.user), pk=account_id)


def account_context(account: Account, tab: str) -> dict:
    return {
        "account": account,
        "balance_words": balance_words(account.balance, "member"),
        "active_tab": tab,
    }
