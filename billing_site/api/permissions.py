"""Scopes and visibility: what a caller may do, and on which accounts.

Each view names the scope of each action (``scopes = {"create": "write", ...}``); a
GET needs ``read``. A key restricted to accounts/groups, and a member's session, see
only those accounts: every queryset goes through :func:`visible_accounts`, so another
account's object is a 404, exactly like an absent one.
"""

from django.db.models import Q
from rest_framework import permissions

from billing_site.api.auth import api_key_of
from billing_site.api.models import ApiKey, ApiScope
from ledger.models import Account, AccountGroup
from ledger.selectors import accounts_visible_to

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def required_scope(view, method: str) -> str:
    action = getattr(view, "action", None)
    scopes = getattr(view, "scopes", {})
    if action in scopes:
        return scopes[action]
    if method in READ_METHODS:
        return ApiScope.READ
    return getattr(view, "write_scope", ApiScope.WRITE)


class HasScope(permissions.BasePermission):
    """API keys need the action's scope; member sessions may only read."""

    message = "Not allowed."

    def has_permission(self, request, view):
        if request.user is None or not request.user.is_authenticated:
            return False
        key = api_key_of(request)
        scope = required_scope(view, request.method)
        if key is None:
            if request.method not in READ_METHODS or scope != ApiScope.READ:
                self.message = "Member sessions may only read; integrations write with an API key."
                return False
            return True
        if not key.has_scope(scope):
            self.message = f"This API key lacks the '{scope}' scope needed here."
            return False
        return True


def visible_accounts(request):
    """The accounts the caller may see, as a queryset, or None for every account."""
    key = api_key_of(request)
    if key is None:
        return accounts_visible_to(request.user)
    restricted = getattr(key, "restricted", None)  # read with the key (auth.find_key)
    if restricted is None:
        restricted = key.accounts.exists() or key.groups.exists()
    if not restricted:
        return None
    return restricted_accounts(ApiKey, key.pk)


def restricted_accounts(model, pk: int):
    """The accounts a restriction to accounts and/or groups allows: the listed accounts
    and every account of the listed groups (``model``'s ``accounts``/``groups`` many-to-
    many fields, row ``pk``). The one rule of API keys and webhook endpoints."""
    owner = f"{model._meta.model_name}_id"
    accounts = model.accounts.through.objects.filter(**{owner: pk})
    groups = model.groups.through.objects.filter(**{owner: pk})
    return Account.objects.filter(
        Q(pk__in=accounts.values("account_id")) | Q(group_id__in=groups.values("accountgroup_id"))
    )


def restrict(request, queryset, account_path: str = "account"):
    """Filter ``queryset`` to objects of accounts the caller may see."""
    cache = getattr(request, "_billfold_visible", "unset")
    if cache == "unset":
        cache = visible_accounts(request)
        if cache is not None:
            cache = list(cache.values_list("pk", flat=True))
        request._billfold_visible = cache
    if cache is None:
        return queryset
    return queryset.filter(**{f"{account_path}__in": cache})


def is_restricted(request) -> bool:
    restrict(request, Account.objects.none(), "pk")
    return request._billfold_visible is not None


def restrict_groups(request, queryset):
    """Groups the caller may see: a key's own groups and the groups of its accounts; a
    member's, the groups of their accounts."""
    key = api_key_of(request)
    if not is_restricted(request):
        return queryset
    visible = Q(accounts__in=request._billfold_visible)
    if key is not None:
        visible |= Q(pk__in=key.groups.values("pk"))
    ids = AccountGroup.objects.filter(visible).values("pk")
    return queryset.filter(pk__in=ids)
