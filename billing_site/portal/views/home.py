"""The member's home page: every account they may read, each with its whole position —
ledger balance, credit free to use, what is due and overdue (the invoices, with *Pay
now*), each wallet's total / consumed / held / available with the invoices holding it,
and top-ups still waiting for their money (``payments.selectors.account_position``, the
computation the staff account page shows too).

A position costs a few queries per account; a member who sees many accounts (the admin
account of a large group) gets the positions of the first ``POSITIONS_SHOWN`` and the
plain list of the rest, so the page stays bounded.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from billing_site.portal.views.invoice_rows import invoice_views
from ledger.selectors import accounts_visible_to
from ledger.statements import balance_words
from payments.selectors import account_position

POSITIONS_SHOWN = 10


def _position(account) -> dict:
    position = account_position(account)
    views = invoice_views([row.invoice for row in position.invoices])
    return {
        "account": account,
        "words": balance_words(account.balance, "member"),
        "position": position,
        "owed_rows": list(zip(position.invoices, views, strict=True)),
    }


@login_required
def home(request):
    accounts = list(
        accounts_visible_to(request.user).select_related("group").order_by("name", "id")
    )
    positions = [_position(account) for account in accounts[:POSITIONS_SHOWN]]
    rest = [(a, balance_words(a.balance, "member")) for a in accounts[POSITIONS_SHOWN:]]
    return render(
        request,
        "member/home.html",
        {"positions": positions, "rows": rest, "any_account": bool(accounts)},
    )
