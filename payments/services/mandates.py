"""Direct-debit mandates (issue 14): staff or an integration record the member's signed
mandate; the gateway keeps the IBAN and answers with its own mandate id; Billfold keeps
the reference, the signature date and the IBAN's last four characters. At most one
mandate per account is active; revoking one keeps it (calls made under it name it).

Registering with the gateway is a call to the outside, so it is made before the
account is locked (docs/DESIGN.md: never call a gateway under a lock); the account
is then locked and the rules checked again before the row is written."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ledger.errors import InvalidInput, StateConflict
from ledger.locks import lock_account, lock_row
from ledger.models import Account
from ledger.services import Actor

from ..models import Mandate, MandateStatus, Payment

REFERENCE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+?/-:().,' ")


def clean_reference(reference: str | None) -> str:
    reference = (reference or "").strip()
    if not 1 <= len(reference) <= 35 or not set(reference) <= REFERENCE_CHARS:
        raise InvalidInput(
            "reference: 1 to 35 characters: letters, digits, spaces and + ? / - : ( ) . , '",
            field="reference",
        )
    return reference


def _check_new(account_id: int, reference: str) -> None:
    active = Mandate.objects.filter(account_id=account_id, status=MandateStatus.ACTIVE).first()
    if active is not None:
        raise StateConflict(
            f"The account already has an active mandate, {active}; revoke it first.",
            field="account",
        )
    if Mandate.objects.filter(reference=reference).exists():
        raise InvalidInput(
            f"reference: mandate reference '{reference}' is already used.", field="reference"
        )


def create_mandate(
    *, account: Account | int, reference: str, signed_on: date, iban: str, actor: Actor
) -> Mandate:
    """Record a signed mandate for ``account`` and register it with the direct-debit
    gateway. Refused: a bad IBAN, reference or date; a second active mandate."""
    from .gateway_flows import clean_iban, gateway_for

    iban = clean_iban(iban)
    reference = clean_reference(reference)
    if not isinstance(signed_on, date) or signed_on > timezone.localdate():
        raise InvalidInput(
            "signed_on: the day the mandate was signed, not in the future.", field="signed_on"
        )
    account_id = account.pk if isinstance(account, Account) else account
    _check_new(account_id, reference)  # before asking the gateway
    gateway = gateway_for("direct_debit")
    try:
        token = gateway.register_mandate(iban=iban, reference=reference)
    except NotImplementedError as exc:
        raise StateConflict(f"{exc}.", field="iban") from None
    with transaction.atomic():
        lock_account(account_id)
        _check_new(account_id, reference)  # again, under the lock
        return Mandate.objects.create(
            account_id=account_id,
            reference=reference,
            signed_on=signed_on,
            iban_last4=iban[-4:],
            gateway=gateway.name,
            gateway_mandate=token,
            created_by=actor.user,
            created_by_label=actor.label,
        )


def revoke_mandate(*, mandate: Mandate | int, actor: Actor, reason: str = "") -> Mandate:
    """Stop using a mandate: direct debits no longer default to it. A collection already
    sent under it goes on to its outcome."""
    mandate_id = mandate.pk if isinstance(mandate, Mandate) else mandate
    account_id = Mandate.objects.values_list("account_id", flat=True).get(pk=mandate_id)
    with transaction.atomic():
        lock_account(account_id)
        locked = lock_row(Mandate, mandate_id)
        if locked.status == MandateStatus.REVOKED:
            raise StateConflict(
                f"Mandate {locked.reference} was already revoked on "
                f"{timezone.localtime(locked.revoked_at):%d %b %Y}.",
                field="mandate",
            )
        locked.status = MandateStatus.REVOKED
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor.user
        locked.revoked_by_label = actor.label
        locked.revoke_reason = (reason or "")[:255]
        locked.save(
            update_fields=[
                "status",
                "revoked_at",
                "revoked_by",
                "revoked_by_label",
                "revoke_reason",
            ]
        )
        return locked


def mandate_for(payment: Payment, mandate: Mandate | int | None) -> Mandate:
    """The mandate a direct debit of ``payment`` is collected under: the one named (of the
    payment's account, active), else the account's active one. The caller holds the
    account's lock, so a revocation cannot slip in between."""
    from ..selectors import active_mandate

    if mandate is None:
        found = active_mandate(payment.account_id)
        if found is None:
            raise InvalidInput(
                f"iban: give the member's IBAN: account {payment.account} has no active "
                "direct-debit mandate.",
                field="iban",
            )
        return found
    mandate_id = mandate.pk if isinstance(mandate, Mandate) else mandate
    found = Mandate.objects.filter(pk=mandate_id, account_id=payment.account_id).first()
    if found is None:
        raise InvalidInput(
            f"mandate: {mandate_id} is not a mandate of account {payment.account}.",
            field="mandate",
        )
    if not found.is_active:
        raise StateConflict(f"Mandate {found.reference} was revoked.", field="mandate")
    return found
