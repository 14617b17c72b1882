"""Member pages of the wallets app: an account's wallets and one wallet's movements.

Wallets are read through the account the member may see (``billing_site.portal.views.common``), so
another member's wallet id is a 404. A wallet's transactions are keyset-paged on
``seq`` (``wallets.selectors.transactions_page``, never OFFSET), each row carrying the
balances stored after it.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from billing_site.portal.views.common import account_context, member_account
from ledger.keyset import CursorForm
from wallets.models import Wallet
from wallets.selectors import transactions_page


@login_required
def wallet_list(request, account_id: int):
    account = member_account(request, account_id)
    wallets = list(Wallet.objects.filter(account_id=account.pk).order_by("status", "name"))
    return render(
        request, "member/wallets.html", {**account_context(account, "wallets"), "wallets": wallets}
    )


@login_required
def wallet_detail(request, account_id: int, wallet_id: int):
    account = member_account(request, account_id)
    wallet = get_object_or_404(Wallet.objects.filter(account_id=account.pk), pk=wallet_id)
    form = CursorForm(request.GET or None)
    before, after = form.cursors() if form.is_bound else (None, None)
    bad_link = form.is_bound and not form.is_valid()
    page = transactions_page(wallet, before=before, after=after)
    base = reverse("member-wallet", args=[account.pk, wallet.pk])
    return render(
        request,
        "member/wallet.html",
        {
            **account_context(account, "wallets"),
            "wallet": wallet,
            "transactions": page.rows,
            "bad_link": bad_link,
            "older_url": f"{base}?before={page.older}" if page.older is not None else None,
            "newer_url": f"{base}?after={page.newer}" if page.newer is not None else None,
            "newest_url": base if (before is not None or after is not None) else None,
        },
    )
