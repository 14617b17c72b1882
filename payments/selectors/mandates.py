"""An account's direct-debit mandates: the active one (what a direct debit uses by
default) and all of them, newest first."""

from django.db.models import QuerySet

from ledger.models import Account

from ..models import Mandate, MandateStatus


def _account_id(account: Account | int) -> int:
    return account.pk if isinstance(account, Account) else account


def active_mandate(account: Account | int) -> Mandate | None:
    """The account's active mandate, or None (at most one: a database constraint)."""
    return Mandate.objects.filter(
        account_id=_account_id(account), status=MandateStatus.ACTIVE
    ).first()


def mandates_of(account: Account | int) -> QuerySet[Mandate]:
    return Mandate.objects.filter(account_id=_account_id(account)).order_by("-created_at", "-id")
