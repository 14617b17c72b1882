"""The preview of a group payment: how ``services.record_group_payment`` will split an
amount over a group's open invoices, read without taking a lock (SPEC section 2).

The plan follows the service's rule exactly — oldest due first (then issue date), every
account of the group, invoices still waiting for an ERP's approval skipped, one payment
per account, what is left as credit on the account staff chose — so staff confirm what
will happen. The service recomputes it under the locks; if an invoice was paid in the
meantime the recorded split follows the invoices as they are then.
"""

from dataclasses import dataclass, field

from moneyed import Money

from ledger.errors import BillingError
from ledger.models import Account, AccountGroup, Invoice
from ledger.money import to_money
from ledger.selectors import open_invoices

from ..models import Payment, PaymentStatus


@dataclass
class PlanPart:
    invoice: Invoice
    due: Money
    part: Money

    @property
    def settles(self) -> bool:
        return self.part == self.due

    @property
    def remaining(self) -> Money:
        return self.due - self.part


@dataclass
class AccountShare:
    account: Account
    parts: list[PlanPart] = field(default_factory=list)
    credit: Money | None = None  # the leftover, on the chosen account

    @property
    def received(self) -> Money:
        total = sum((p.part for p in self.parts), Money(0, self.account.currency))
        return total + self.credit if self.credit is not None else total


@dataclass
class GroupPlan:
    group: AccountGroup
    currency: str | None
    amount: Money | None
    shares: list[AccountShare]
    leftover: Money | None
    skipped: list[Invoice]  # waiting for the ERP's approval: not payable yet
    problem: str | None = None  # why the payment cannot be recorded at all


def group_currency(group: AccountGroup) -> tuple[str | None, str | None]:
    """The group's one currency, or None and the refusal in the service's words."""
    currencies = sorted(set(group.accounts.values_list("currency", flat=True)))
    if not currencies:
        return None, f"group {group} has no accounts."
    if len(currencies) > 1:
        return None, (
            f"group {group}: its accounts use {', '.join(currencies)}; a group payment "
            "needs one currency."
        )
    return currencies[0], None


def _pending_erp(invoice_ids) -> set[int]:
    return set(
        Payment.objects.filter(
            invoice_id__in=invoice_ids,
            direction="incoming",
            status=PaymentStatus.PENDING_BILLING,
        ).values_list("invoice_id", flat=True)
    )


def group_payment_plan(
    group: AccountGroup, amount, leftover_account: Account | None = None
) -> GroupPlan:
    """How ``amount`` would be split over ``group`` now (read only; a few queries)."""
    currency, problem = group_currency(group)
    plan = GroupPlan(group, currency, None, [], None, [], problem)
    if problem:
        return plan
    try:
        money = to_money(amount, currency)
    except BillingError as exc:
        plan.problem = exc.detail
        return plan
    if money.amount <= 0:
        plan.problem = "amount: must be positive."
        return plan
    accounts = {a.pk: a for a in group.accounts.order_by("pk")}
    invoices = list(open_invoices(list(accounts)))
    waiting_erp = _pending_erp([i.pk for i in invoices])
    shares: dict[int, AccountShare] = {}
    left = money
    for invoice in invoices:
        if left.amount <= 0:
            break
        if invoice.pk in waiting_erp:
            plan.skipped.append(invoice)
            continue
        part = min(invoice.amount_due, left)
        if part.amount > 0:
            share = shares.setdefault(
                invoice.account_id, AccountShare(accounts[invoice.account_id])
            )
            share.parts.append(PlanPart(invoice, invoice.amount_due, part))
            left -= part
    if left.amount > 0 and leftover_account is not None:
        share = shares.setdefault(leftover_account.pk, AccountShare(leftover_account))
        share.credit = left
    plan.amount, plan.leftover = money, left
    plan.shares = [shares[pk] for pk in sorted(shares)]
    return plan
