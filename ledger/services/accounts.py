from django.conf import settings
from django.db import transaction
from moneyed import Money

from ..errors import InvalidInput
from ..models import Account, AccountGroup
from .actors import Actor


def create_group(*, name: str, actor: Actor, admin_account: Account | None = None) -> AccountGroup:
    if not name.strip():
        raise InvalidInput("name: a group needs a name.", field="name")
    with transaction.atomic():
        return AccountGroup.objects.create(name=name.strip(), admin_account=admin_account)


def create_account(
    *,
    name: str,
    email: str,
    currency: str,
    actor: Actor,
    external_ref: str | None = None,
    group: AccountGroup | None = None,
    members=(),
    erp_managed: bool = False,
    payment_terms_days: int = 14,
) -> Account:
    """Open an account with an empty ledger (balance 0 in its currency)."""
    currency = (currency or "").upper()
    if currency not in settings.CURRENCIES:
        raise InvalidInput(
            f"currency: {currency or 'empty'} is not one of {', '.join(settings.CURRENCIES)}.",
            field="currency",
        )
    if not name.strip():
        raise InvalidInput("name: an account needs a name.", field="name")
    with transaction.atomic():
        account = Account.objects.create(
            name=name.strip(),
            email=email,
            currency=currency,
            balance=Money(0, currency),
            external_ref=external_ref or None,
            group=group,
            erp_managed=erp_managed,
            payment_terms_days=payment_terms_days,
        )
        if members:
            account.members.add(*members)
        return account
