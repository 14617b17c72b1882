"""Small helpers shared by the ledger model admins."""

from django.utils.html import format_html
from moneyed import Money

from ..money import format_money


def money_cell(value) -> str:
    """A money value formatted with its currency, right-aligned, negatives marked."""
    if not isinstance(value, Money):
        return "—"
    css = "billfold-money billfold-negative" if value.amount < 0 else "billfold-money"
    return format_html('<span class="{}">{}</span>', css, format_money(value))


class LedgerAdminMedia:
    css = {"all": ("ledger/admin.css",)}


class ReadOnlyAdminMixin:
    """A record that no one adds, changes or deletes through the admin (append-only
    logs, documents written by the services): staff can only look."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def status_badge(obj) -> str:
    """An object's status as the admin's coloured badge (``billfold-status-<code>``)."""
    return format_html(
        '<span class="billfold-status billfold-status-{}">{}</span>',
        obj.status,
        obj.get_status_display(),
    )
