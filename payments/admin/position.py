"""The account's *Position* tab: its whole position on one page — the ledger balance,
the credit free to use, what is owed and overdue (per open invoice), and each wallet's
total / consumed / held / available with the invoices holding it
(``payments.selectors.account_position``, the same figures as the member home and the
API). Served by the payments admin, since wallets and payments are read here."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from ledger.admin.pages import crumbs
from ledger.models import Account
from ledger.statements import balance_words

from ..selectors import account_position


def position_view(model_admin, request, account_id: int):
    account = get_object_or_404(Account.objects.select_related("group"), pk=account_id)
    if not request.user.has_perm("ledger.view_account"):
        raise PermissionDenied("You are not allowed to see accounts.")
    position = account_position(account)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{account.name}: position",
        "opts": Account._meta,
        "crumbs": crumbs(Account._meta, account, ("Position", None)),
        "original": account,
        "account": account,
        "position": position,
        "balance_words": balance_words(account.balance),
        "active_tab": "position",
        "media": model_admin.media,
        "figures": [
            ("Ledger balance", position.balance),
            ("Credit free to use", position.free_credit),
            ("Owed on open invoices", position.owed),
            ("Of which overdue", position.overdue),
            ("Wallets: available", position.wallet_available),
            ("Wallets: held for invoices", position.wallet_held),
        ],
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/ledger/account/position.html", context)
