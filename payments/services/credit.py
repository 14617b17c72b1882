"""Money already on the account: allocating it to invoices, assigning a completed
payment's free money, and paying from the account's credit (SPEC sections 3-5)."""

from django.db import transaction
from django.utils import timezone
from moneyed import Money

from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, EntryKind, Invoice
from ledger.money import format_money, to_money
from ledger.selectors import free_credit
from ledger.services import Actor, Posting

from ..models import Payment, PaymentAllocation, PaymentMethod, PaymentStatus
from .common import lock_payment, open_payment_for
from .transitions import apply, refusal, refuse
from .waiting import awaiting_erp, sync_open_payment

S = PaymentStatus


def allocate(
    payment: Payment, invoice: Invoice, amount: Money, actor: Actor, at=None
) -> PaymentAllocation:
    """Apply ``amount`` of a locked payment to a locked invoice (no ledger entry)."""
    allocation = PaymentAllocation.objects.create(
        payment=payment,
        invoice=invoice,
        account_id=invoice.account_id,
        currency=invoice.currency,
        amount=amount,
        created_at=at or timezone.now(),
        actor_label=actor.label[:150],
    )
    payment.amount_allocated += amount
    payment.save(update_fields=["amount_allocated", "currency"])
    ledger.settle_invoice(invoice=invoice, paid=amount)
    return allocation


def settle_from_balance(
    payment: Payment, account: Account, *, invoice: Invoice | None, actor: Actor, at=None
) -> None:
    """A payment settled from the account's credit: allocate it to its invoice (what is
    due at most) and post the pair ``PAYM`` +x / ``CRED`` −x, so the invoice shows paid
    while the balance only moves from credit to settled (issuing, pay from balance)."""
    if invoice is not None:
        allocate(payment, invoice, min(payment.amount, invoice.amount_due), actor, at)
    label = f"invoice {invoice.number}" if invoice else f"payment {payment.number}"
    ledger.post(
        account=account,
        postings=[
            Posting(
                kind=EntryKind.PAYMENT,
                amount=payment.amount,
                reference=payment.reference_code,
                description=f"Paid from balance: {label}",
                invoice=invoice,
                source=payment,
                method=PaymentMethod.ACCOUNT_BALANCE,
            ),
            Posting(
                kind=EntryKind.CREDIT,
                amount=-payment.amount,
                reference=payment.reference_code,
                description=f"Account credit used for {label}",
                invoice=invoice,
                source=payment,
            ),
        ],
        actor=actor,
        at=at,
    )


def _invoice_id(invoice: Invoice | int) -> int:
    return invoice.pk if isinstance(invoice, Invoice) else int(invoice)


def _lock_for_assignment(payment: Payment | int, invoice_ids: list[int]):
    """Account, then the invoices in id order, then the payment (the fixed lock order)."""
    account, unlocked = lock_payment(payment)
    invoices = {}
    for invoice_id in sorted(set(invoice_ids)):
        _acc, invoices[invoice_id] = ledger.lock_invoice(invoice_id)
    locked = Payment.objects.select_for_update(no_key=True).get(pk=unlocked.pk)
    return account, locked, invoices


def _requested(where: str, invoice: Invoice, amount, account: Account) -> Money:
    """The money asked for one invoice (default: all it owes), checked against it."""
    if invoice.account_id != account.pk:
        raise InvalidInput(f"{where}: invoice {invoice} is on another account.", where)
    if not invoice.is_open:
        raise StateConflict(
            f"{where}: invoice {invoice} is {invoice.get_status_display().lower()}: "
            "nothing is due on it.",
            field=where,
        )
    if awaiting_erp(invoice):
        raise StateConflict(
            f"{where}: invoice {invoice} is not payable until the ERP approves it.",
            field=where,
        )
    money = invoice.amount_due if amount is None else to_money(amount, account.currency)
    if money.amount <= 0 or money > invoice.amount_due:
        raise InvalidInput(
            f"{where}: {format_money(money)} must be positive and at most the "
            f"{format_money(invoice.amount_due)} due on invoice {invoice}.",
            field=where,
        )
    return money


def _check_free_money(payment: Payment, account: Account, total: Money) -> None:
    """The total is within the payment's unallocated money and the account's free
    credit (credit already used elsewhere is never spent twice)."""
    if total > payment.unallocated:
        raise InvalidInput(
            f"allocations: {format_money(total)} is more than the "
            f"{format_money(payment.unallocated)} of payment {payment.number} not yet allocated.",
            field="allocations",
        )
    credit = free_credit(account)
    if total > credit:
        raise StateConflict(
            f"allocations: the account's free credit is {format_money(credit)}; "
            f"{format_money(total)} cannot be assigned (the rest was already used).",
            field="allocations",
        )


def assign_payment(
    *,
    payment: Payment | int,
    allocations: list[tuple[Invoice | int, object]],
    actor: Actor,
) -> list[PaymentAllocation]:
    """Apply a completed payment's unallocated money to chosen open invoices.

    The money is already on the ledger (its ``PAYM`` credit), so this posts nothing: it
    records allocations, settles the invoices and shrinks their waiting payments. It is
    capped by the payment's unallocated amount, each invoice's due amount and the
    account's free credit (so credit already used elsewhere is never spent twice).
    """
    if not allocations:
        raise InvalidInput("allocations: choose at least one invoice.", field="allocations")
    with transaction.atomic():
        account, locked, invoices = _lock_for_assignment(
            payment, [_invoice_id(inv) for inv, _a in allocations]
        )
        if locked.status != S.COMPLETED or locked.direction != "incoming":
            raise refuse(locked, "assign", "only completed incoming payments can be assigned")
        requested = []
        for i, (inv, amount) in enumerate(allocations):
            invoice = invoices[_invoice_id(inv)]
            requested.append((invoice, _requested(f"allocations[{i}]", invoice, amount, account)))
        _check_free_money(
            locked, account, sum((m for _i, m in requested), Money(0, account.currency))
        )
        made = []
        for invoice, money in requested:
            made.append(allocate(locked, invoice, money, actor))
            sync_open_payment(invoice, actor, reason=f"settled by payment {locked.number}")
        return made


def pay_from_balance(*, payment: Payment | int, actor: Actor, at=None) -> Payment:
    """Settle a waiting payment from the account's credit: ``PAYM`` + and ``CRED`` −."""
    with transaction.atomic():
        account, locked = lock_payment(payment)
        why = refusal(locked, "pay_from_balance", method=PaymentMethod.ACCOUNT_BALANCE)
        if why:
            raise refuse(locked, "pay_from_balance", why)
        invoice = None
        if locked.invoice_id:
            _acc, invoice = ledger.lock_invoice(locked.invoice_id)
            locked = Payment.objects.select_for_update(no_key=True).get(pk=locked.pk)
        credit = free_credit(account)
        if credit < locked.amount:
            raise StateConflict(
                f"Payment {locked.number}: the account's credit ({format_money(credit)}) does not "
                f"cover {format_money(locked.amount)}.",
                field="amount",
            )
        locked.method = PaymentMethod.ACCOUNT_BALANCE
        apply(locked, "pay_from_balance", actor=actor, at=at, extra_fields=["method"])
        settle_from_balance(locked, account, invoice=invoice, actor=actor, at=at)
        return locked


def pay_invoice_from_balance(*, invoice: Invoice | int, actor: Actor, at=None) -> Payment:
    """Pay an invoice from the account's credit: its waiting payment is settled from the
    balance (``pay_from_balance``). The account lock, taken first, orders the rest."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        payment = open_payment_for(locked)
        if payment is None:
            raise StateConflict(
                f"Invoice {locked} has no payment waiting: nothing to pay from the balance.",
                field="invoice",
            )
        return pay_from_balance(payment=payment.pk, actor=actor, at=at)
