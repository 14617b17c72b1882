"""The account's *Verify ledger* page: the account re-derived from its entries as
``manage.py verify_ledger`` does nightly (seq, running balances, balance, currency, the
hash chain — the first broken entry named — and invoice totals), on demand. Read-only,
so every staff role that sees the account may run it (``ledger.view_account``). Wired
into ``AccountAdmin.get_urls()`` as ``admin:ledger_account_verify``."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from ..models import Account
from ..verification import verify_one
from .pages import crumbs


def verify_view(model_admin, request, object_id):
    account = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    if not model_admin.has_view_permission(request, account):
        raise PermissionDenied("You are not allowed to see accounts.")
    # The command's default rule: an account written outside the posting service (no
    # digest anywhere) is not failed for lacking a chain, only said to lack one.
    result = verify_one(account, require_chain=False)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{account.name}: verify ledger",
        "opts": Account._meta,
        "crumbs": crumbs(Account._meta, account, ("Verify ledger", None)),
        "original": result.account,
        "account": result.account,
        "result": result,
        "active_tab": "",
        "media": model_admin.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/ledger/account/verification.html", context)
