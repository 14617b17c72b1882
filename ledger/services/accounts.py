from django.conf import settings
from django.db import transaction
from moneyed import Money

from ..errors import InvalidInput, StateConflict
from ..locks import lock_account
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


EDITABLE_FIELDS = (
    "name",
    "email",
    "currency",
    "external_ref",
    "group",
    "erp_managed",
    "payment_terms_days",
    "is_active",
)


def has_history(account: Account) -> bool:
    """Whether anything was posted or invoiced on the account."""
    return account.last_seq > 0 or account.invoices.exists()


def update_account(*, account: Account | int, actor: Actor, **changes) -> Account:
    """Change an account's plain fields under its lock (never its ledger state).

    The currency can change only while the account has no entries and no invoices.
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not an editable account field.", field=unknown[0])
    account_id = account.pk if isinstance(account, Account) else int(account)
    with transaction.atomic():
        locked = lock_account(account_id)
        currency = changes.get("currency", locked.currency)
        if currency != locked.currency:
            if currency not in settings.CURRENCIES:
                raise InvalidInput(f"currency: {currency} is not supported.", field="currency")
            if has_history(locked):
                raise StateConflict(
                    f"currency: account {locked.name} already has entries or invoices in "
                    f"{locked.currency}; its currency cannot change.",
                    field="currency",
                )
        if "name" in changes and not str(changes["name"]).strip():
            raise InvalidInput("name: an account needs a name.", field="name")
        fields = list(changes)
        for name, value in changes.items():
            setattr(locked, name, value)
        if "currency" in fields:
            locked.balance = Money(locked.balance.amount, currency)
            fields.append("balance")  # the balance's currency column is ``currency``
        if fields:
            locked.save(update_fields=fields)
        return locked


def delete_account(*, account: Account | int, actor: Actor) -> None:
    """Delete an account that never had entries or invoices."""
    account_id = account.pk if isinstance(account, Account) else int(account)
    with transaction.atomic():
        locked = lock_account(account_id)
        if has_history(locked):
            raise StateConflict(
                f"Account {locked.name} has ledger entries or invoices: it cannot be "
                "deleted (set is_active to false instead).",
                field="id",
            )
        locked.delete()
