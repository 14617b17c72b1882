"""The member's home page: every account they may read, with its balance."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ledger.selectors import accounts_visible_to
from ledger.statements import balance_words


@login_required
def home(request):
    accounts = list(accounts_visible_to(request.user).select_related("group").order_by("name"))
    rows = [(account, balance_words(account.balance, "member")) for account in accounts]
    return render(request, "member/home.html", {"rows": rows})
