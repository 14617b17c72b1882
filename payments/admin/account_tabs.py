"""The pages a payments admin adds to an account (its *Mandates* and *Reminders* tabs):
the account, checked against the user's permissions, and the page in the admin's look
with the account's breadcrumbs and tabs."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from ledger.admin.pages import crumbs
from ledger.models import Account


class AccountTabMixin:
    def _account(self, request, account_id, permission: str, what: str) -> Account:
        account = get_object_or_404(Account, pk=account_id)
        if not request.user.has_perm("ledger.view_account"):
            raise PermissionDenied("You are not allowed to see accounts.")
        if not request.user.has_perm(permission):
            raise PermissionDenied(f"You are not allowed to {what}.")
        return account

    def _page(self, request, template, account, title, **context):
        request.current_app = self.admin_site.name
        page = {
            **self.admin_site.each_context(request),
            "title": f"{account.name}: {title}",
            "opts": Account._meta,
            "crumbs": crumbs(Account._meta, account, (title, None)),
            "original": account,
            "account": account,
            "media": self.media,
            **context,
        }
        return TemplateResponse(request, template, page)
