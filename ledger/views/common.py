"""What every member page shares: the account the member may read, balance words."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from moneyed import Money

from ..models import Account
from ..selectors import accounts_visible_to


def member_account(request: HttpRequest, account_id: int) -> Account:
    """The account if the logged-in member may read it, else 404 (never 403: a member
    cannot tell another account's id from one that does not exist)."""
    return get_object_or_404(accounts_visible_to(request.user), pk=account_id)


def balance_words(balance: Money) -> str:
    """How a member reads a balance (credits - debits): "in credit", "owed", "settled"."""
    if balance.amount > 0:
        return "in credit"
    if balance.amount < 0:
        return "owed"
    return "settled"


def account_context(account: Account, tab: str) -> dict:
    return {
        "account": account,
        "balance_words": balance_words(account.balance),
        "active_tab": tab,
    }
