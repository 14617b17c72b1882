"""A payment recorded for an account group (SPEC section 2)."""

from django.db import transaction
from moneyed import Money

from ledger import services as ledger
from ledger.errors import CurrencyMismatch, InvalidInput
from ledger.models import Account, AccountGroup, Invoice
from ledger.money import to_money
from ledger.selectors import open_invoices
from ledger.services import Actor

from ..models import PaymentBatch, PaymentType
from .common import create_payment
from .completion import announce_completed, clean_method, complete
from .credit import allocate
from .waiting import awaiting_erp, sync_open_payment


def _lock_group(group_id: int, leftover_id: int) -> tuple[AccountGroup, dict[int, Account], str]:
    """Lock the group, then its accounts in id order; they must share one currency."""
    group = AccountGroup.objects.select_for_update(no_key=True).get(pk=group_id)
    account_ids = list(group.accounts.order_by("pk").values_list("pk", flat=True))
    if leftover_id not in account_ids:
        raise InvalidInput(
            "leftover_account: must be an account of the group.", field="leftover_account"
        )
    accounts = {pk: ledger.lock_account(pk) for pk in account_ids}
    currencies = {a.currency for a in accounts.values()}
    if len(currencies) != 1:
        raise CurrencyMismatch(
            f"group {group}: its accounts use {', '.join(sorted(currencies))}; a group "
            "payment needs one currency.",
            field="group",
        )
    return group, accounts, currencies.pop()


def _split(
    account_ids: list[int], money: Money, leftover_id: int
) -> tuple[dict[int, list[tuple[Invoice, Money]]], Money]:
    """Plan the split: per account, the (locked invoice, part) pairs it pays, oldest
    due first, skipping invoices the ERP has not approved; and what is left over."""
    left = money
    plan: dict[int, list] = {}
    for invoice in open_invoices(account_ids):
        if left.amount <= 0:
            break
        if awaiting_erp(invoice):
            continue  # not payable until the ERP approves it (SPEC section 5)
        _acc, locked = ledger.lock_invoice(invoice.pk)
        part = min(locked.amount_due, left)
        if part.amount > 0:
            plan.setdefault(locked.account_id, []).append((locked, part))
            left -= part
    if left.amount > 0:
        plan.setdefault(leftover_id, [])
    return plan, left


def _pay_account(
    batch: PaymentBatch,
    account: Account,
    parts: list[tuple[Invoice, Money]],
    received: Money,
    *,
    method: str,
    reference: str,
    actor: Actor,
    at,
) -> None:
    """One account's share: its own completed payment and ``PAYM`` entry, allocated to
    its invoices (the rest, on the leftover account, stays as credit)."""
    payment = create_payment(
        account=account,
        type=PaymentType.RENDERED_SERVICES if parts else PaymentType.TOP_UP,
        amount=received,
        actor=actor,
        batch=batch,
        reason=f"group payment {batch.pk}",
        at=at,
    )
    complete(
        payment,
        account,
        method=method,
        amount=received,
        actor=actor,
        reference=reference,
        note=f"Group payment {batch.pk} ({batch.group})",
        at=at,
        announce=False,
    )
    for invoice, part in parts:
        allocate(payment, invoice, part, actor, at)
        sync_open_payment(invoice, actor, reason=f"group payment {batch.pk}")
    announce_completed(payment)  # with its allocations


def record_group_payment(
    *,
    group: AccountGroup | int,
    amount,
    method: str,
    actor: Actor,
    leftover_account: Account | int,
    reference: str = "",
    at=None,
) -> PaymentBatch:
    """Split a group payment over the member accounts' open invoices, oldest due first.

    Invoices still waiting for an ERP's approval are skipped (not payable yet). Each
    account gets its own payment and its own ``PAYM`` entry for what it received;
    what is left after every open invoice is paid stays as credit on
    ``leftover_account`` (a member of the group). All accounts are locked in id order.
    """
    method = clean_method(method)
    group_id = group.pk if isinstance(group, AccountGroup) else int(group)
    leftover_id = leftover_account.pk if isinstance(leftover_account, Account) else leftover_account
    with transaction.atomic():
        group, accounts, currency = _lock_group(group_id, leftover_id)
        money = to_money(amount, currency)
        if money.amount <= 0:
            raise InvalidInput("amount: must be positive.", field="amount")
        batch = PaymentBatch.objects.create(
            group=group,
            currency=currency,
            amount=money,
            method=method,
            reference=(reference or "")[:100],
            actor_label=actor.label[:150],
        )
        plan, left = _split(list(accounts), money, leftover_id)
        for account_id, parts in sorted(plan.items()):
            received = sum((p for _i, p in parts), Money(0, currency))
            if account_id == leftover_id:
                received += left
            _pay_account(
                batch,
                accounts[account_id],
                parts,
                received,
                method=method,
                reference=reference,
                actor=actor,
                at=at,
            )
        return batch


__all__ = ["record_group_payment"]
