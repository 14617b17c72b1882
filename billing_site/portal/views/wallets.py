"""Member pages of the wallets app: an account's wallets and one wallet's movements.

Wallets are read through the account the member may see (``billing_site.portal.views.common``), so
another member's wallet id is a 404. A wallet's transactions are keyset-paged on
``seq`` (never OFFSET), each row carrying the balances stored after it.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from billing_site.portal.views.common import account_context, member_account
from wallets.models import Wallet

TRANSACTIONS_PER_PAGE = 50


class CursorForm(forms.Form):
    """``before``/``after``: the seq to page from (older/newer)."""

    before = forms.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    after = forms.IntegerField(required=False, min_value=0, max_value=2**63 - 1)

    def cursors(self) -> tuple[int | None, int | None]:
        if not self.is_valid():
            return None, None
        before, after = self.cleaned_data["before"], self.cleaned_data["after"]
        if before is not None and after is not None:
            return None, None
        return before, after


def transactions_page(wallet: Wallet, *, before=None, after=None, limit=TRANSACTIONS_PER_PAGE):
    """(rows newest first, older cursor, newer cursor): two index range scans."""
    qs = wallet.transactions.all()
    if after is not None:
        rows = list(qs.filter(seq__gt=after).order_by("seq")[:limit])
        rows.reverse()
    else:
        if before is not None:
            qs = qs.filter(seq__lt=before)
        rows = list(qs.order_by("-seq")[:limit])
    if not rows:
        return rows, None, None
    older = rows[-1].seq if rows[-1].seq > 1 else None
    newer = rows[0].seq if rows[0].seq < wallet.last_seq else None
    return rows, older, newer


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
    rows, older, newer = transactions_page(wallet, before=before, after=after)
    base = reverse("member-wallet", args=[account.pk, wallet.pk])
    return render(
        request,
        "member/wallet.html",
        {
            **account_context(account, "wallets"),
            "wallet": wallet,
            "transactions": rows,
            "bad_link": bad_link,
            "older_url": f"{base}?before={older}" if older is not None else None,
            "newer_url": f"{base}?after={newer}" if newer is not None else None,
            "newest_url": base if (before is not None or after is not None) else None,
        },
    )
