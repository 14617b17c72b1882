"""Money arriving: issuing with credit applied, mark as paid, credit payments,
assigning credit to invoices, paying from the balance (SPEC sections 3-5)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from moneyed import Money

from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, EntryKind, Invoice, InvoiceStatus
from ledger.money import format_money, to_money
from ledger.selectors import free_credit
from ledger.services import Actor, Posting
from wallets import services as wallets
from wallets.models import Wallet

from ..models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    PaymentTransition,
    PaymentType,
)
from ..models.payments import MANUAL_METHODS, RECEIPT_METHODS
from .common import create_payment, lock_payment, open_payment_for
from .transitions import apply, refusal, refuse

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


def payment_type_for(invoice: Invoice) -> str:
    return PaymentType.ORDER if invoice.is_prepaid_order else PaymentType.RENDERED_SERVICES


def awaiting_erp(invoice: Invoice) -> bool:
    """The invoice's payment still waits for the ERP's approval: not payable yet."""
    return Payment.objects.filter(
        invoice=invoice, direction="incoming", status=S.PENDING_BILLING
    ).exists()


def erp_approved(invoice: Invoice) -> bool:
    """Whether the ERP approved this invoice (one of its payments was approved)."""
    return PaymentTransition.objects.filter(payment__invoice=invoice, name="approve").exists()


def open_waiting_payment(
    invoice: Invoice, account: Account, actor: Actor, *, at=None, reason=""
) -> Payment | None:
    """Open the payment that waits for what the invoice still owes (SPEC section 4)."""
    due = invoice.amount_due
    if due.amount <= 0:
        return None
    kind = payment_type_for(invoice)
    erp = (
        kind == PaymentType.RENDERED_SERVICES and account.erp_managed and not erp_approved(invoice)
    )
    return create_payment(
        account=account,
        type=kind,
        amount=due,
        actor=actor,
        status=S.PENDING_BILLING if erp else S.WAITING_FOR_PAYMENT,
        invoice=invoice,
        due_date=invoice.due_date,
        reason=reason,
        at=at,
    )


def sync_open_payment(invoice: Invoice, actor: Actor, *, reason: str) -> None:
    """Keep the invoice's waiting payment equal to what is due: shrink it, or cancel it
    when nothing is due any more. A payment at a gateway is left alone."""
    payment = open_payment_for(invoice)
    if payment is None or payment.status == S.PROCESSING:
        return
    due = invoice.amount_due
    if due.amount <= 0:
        apply(payment, "cancel", actor=actor, reason=reason)
    elif payment.amount != due:
        payment.amount = due
        payment.save(update_fields=["amount", "currency"])


def issue_invoice(
    *,
    invoice: Invoice | int,
    actor: Actor,
    at: datetime | None = None,
    due_date=None,
) -> Invoice:
    """Issue an invoice: post ``INVC``, apply the account's credit, open the payment
    that waits for the rest. One transaction (SPEC section 3 worked example)."""
    with transaction.atomic():
        invoice, _entries = ledger.post_invoice(
            invoice=invoice, actor=actor, at=at, due_date=due_date
        )
        # Wallet holds reserved for the invoice become prepayment credit memos first.
        wallets.capture_holds(invoice=invoice, actor=actor, at=at)
        account = ledger.lock_account(invoice.account_id)
        invoice.refresh_from_db()
        credit_before = account.balance + invoice.total - invoice.amount_credited
        applied = min(credit_before.amount, invoice.amount_due.amount)
        if applied > 0:
            used = Money(applied, account.currency)
            payment = create_payment(
                account=account,
                type=payment_type_for(invoice),
                amount=used,
                actor=actor,
                status=S.PAID_FROM_BALANCE,
                method=PaymentMethod.ACCOUNT_BALANCE,
                invoice=invoice,
                due_date=invoice.due_date,
                completed_at=at or timezone.now(),
                reason="credit applied at issue",
                at=at,
            )
            allocate(payment, invoice, used, actor, at)
            ledger.post(
                account=account,
                postings=[
                    Posting(
                        kind=EntryKind.PAYMENT,
                        amount=used,
                        reference=payment.reference_code,
                        description=f"Paid from balance: invoice {invoice.number}",
                        invoice=invoice,
                        source=payment,
                        method=PaymentMethod.ACCOUNT_BALANCE,
                    ),
                    Posting(
                        kind=EntryKind.CREDIT,
                        amount=-used,
                        reference=payment.reference_code,
                        description=f"Account credit used for invoice {invoice.number}",
                        invoice=invoice,
                        source=payment,
                    ),
                ],
                actor=actor,
                at=at,
            )
        open_waiting_payment(invoice, account, actor, at=at, reason="invoice issued")
        invoice.refresh_from_db()
        return invoice


def _clean_method(method: str, allowed=MANUAL_METHODS) -> str:
    if method not in allowed:
        raise InvalidInput(
            f"method: {method or 'empty'} is not one of {', '.join(sorted(allowed))}.",
            field="method",
        )
    return method


def _complete(
    payment: Payment,
    account: Account,
    *,
    method: str,
    amount: Money,
    actor: Actor,
    reference: str,
    note: str,
    at,
    name: str = "mark_paid",
) -> Payment:
    """Complete a locked payment for ``amount`` (transition ``name``: staff's
    ``mark_paid`` or a gateway's ``complete_from_gateway``), allocate it to its invoice
    (what is due at most; the surplus stays as credit) and post the ``PAYM`` credit."""
    if payment.direction != "incoming":
        raise refuse(payment, name, "it is an outgoing payment")
    if payment.method in RECEIPT_METHODS and payment.status in (
        S.RECEIPT_CREATING,
        S.RECEIPT_SENT,
    ):
        method = payment.method  # the receipt already names the method
    why = refusal(payment, name, method=method)
    if why:
        raise refuse(payment, name, why)
    invoice = None
    if payment.invoice_id:
        _acc, invoice = ledger.lock_invoice(payment.invoice_id)
        if invoice.status not in (
            InvoiceStatus.DUE,
            InvoiceStatus.PARTIALLY_PAID,
            InvoiceStatus.DISPUTED,
        ):
            raise StateConflict(
                f"Invoice {invoice} is {invoice.get_status_display().lower()}: "
                "nothing is due on it.",
                field="invoice",
            )
    payment.method = method
    payment.amount = amount
    payment.reference = (reference or payment.reference)[:100]
    payment.note = (note or payment.note)[:255]
    apply(
        payment,
        name,
        actor=actor,
        at=at,
        reason=note,
        extra_fields=["method", "amount", "currency", "reference", "note"],
    )
    if payment.wallet_id:
        # Money for a wallet: credited to it now that it arrived; the account ledger
        # sees it when the wallet pays an invoice (CRMO) or turns into credit (CRED).
        wallets.top_up(
            wallet=payment.wallet_id,
            amount=amount,
            actor=actor,
            source=payment,
            reference=payment.reference_code,
            at=at,
        )
        return payment
    posting_ref = payment.reference_code
    if invoice is not None:
        allocate(payment, invoice, min(amount, invoice.amount_due), actor, at)
        posting_ref = invoice.reference
    ledger.post(
        account=account,
        postings=[
            Posting(
                kind=EntryKind.PAYMENT,
                amount=amount,
                reference=posting_ref,
                description=(
                    f"Payment {payment.number}"
                    + (f" for invoice {invoice.number}" if invoice else " (account credit)")
                    + (f" — ref {payment.reference}" if payment.reference else "")
                ),
                invoice=invoice,
                source=payment,
                method=method,
            )
        ],
        actor=actor,
        at=at,
    )
    if invoice is not None:
        open_waiting_payment(invoice, account, actor, at=at, reason="rest of a part payment")
    return payment


def mark_payment_paid(
    *,
    payment: Payment | int,
    method: str,
    actor: Actor,
    amount=None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Staff record that the money of a payment arrived (SPEC: Mark as paid).

    ``amount`` defaults to the payment's amount. Less opens a new waiting payment for
    the rest; more pays the invoice and leaves the surplus on the account as credit.
    """
    with transaction.atomic():
        account, locked = lock_payment(payment)
        paid = locked.amount if amount is None else to_money(amount, account.currency)
        if paid.amount <= 0:
            raise InvalidInput("amount: must be positive.", field="amount")
        return _complete(
            locked,
            account,
            method=_clean_method(method),
            amount=paid,
            actor=actor,
            reference=reference,
            note=note,
            at=at,
        )


def complete_gateway_payment(
    *,
    payment: Payment | int,
    actor: Actor,
    amount=None,
    reference: str = "",
    at: datetime | None = None,
) -> Payment:
    """A gateway confirmed the money of a ``processing`` payment: complete it, assign it
    to its invoice and post ``PAYM`` (SPEC section 5)."""
    with transaction.atomic():
        account, locked = lock_payment(payment)
        paid = locked.amount if amount is None else to_money(amount, account.currency)
        return _complete(
            locked,
            account,
            method=locked.method,
            amount=paid,
            actor=actor,
            reference=reference,
            note="",
            at=at,
            name="complete_from_gateway",
        )


def mark_invoice_paid(
    *,
    invoice: Invoice | int,
    method: str,
    actor: Actor,
    amount=None,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Mark an invoice as paid: complete its waiting payment (opening one if it has
    none, e.g. after a dispute or an expiry was cancelled) and post ``PAYM``."""
    method = _clean_method(method)
    with transaction.atomic():
        account, locked_invoice = ledger.lock_invoice(invoice)
        if locked_invoice.status not in (
            InvoiceStatus.DUE,
            InvoiceStatus.PARTIALLY_PAID,
            InvoiceStatus.DISPUTED,
        ):
            raise StateConflict(
                f"Invoice {locked_invoice} is "
                f"{locked_invoice.get_status_display().lower()}: nothing is due on it.",
                field="status",
            )
        payment = open_payment_for(locked_invoice)
        if payment is None:
            payment = open_waiting_payment(locked_invoice, account, actor, at=at)
        elif payment.status == S.PENDING_BILLING:
            raise refuse(payment, "mark_paid", "the ERP has not approved the invoice yet")
        paid = payment.amount if amount is None else to_money(amount, account.currency)
        if paid.amount <= 0:
            raise InvalidInput("amount: must be positive.", field="amount")
        return _complete(
            payment,
            account,
            method=method,
            amount=paid,
            actor=actor,
            reference=reference,
            note=note,
            at=at,
        )


def record_payment(
    *,
    account: Account | int,
    amount,
    method: str,
    actor: Actor,
    reference: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Payment:
    """Money received without an invoice: a completed ``top_up`` payment whose
    ``PAYM`` credit stays on the account until assigned (SPEC section 5)."""
    method = _clean_method(method)
    with transaction.atomic():
        account_id = account.pk if isinstance(account, Account) else account
        locked = ledger.lock_account(account_id)
        money = to_money(amount, locked.currency)
        payment = create_payment(
            account=locked, type=PaymentType.TOP_UP, amount=money, actor=actor, at=at
        )
        return _complete(
            payment,
            locked,
            method=method,
            amount=money,
            actor=actor,
            reference=reference,
            note=note,
            at=at,
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
        account, _unlocked = lock_payment(payment)
        invoice_ids = sorted(
            {inv.pk if isinstance(inv, Invoice) else int(inv) for inv, _a in allocations}
        )
        invoices = {}
        for invoice_id in invoice_ids:
            _acc, inv = ledger.lock_invoice(invoice_id)
            invoices[invoice_id] = inv
        locked = Payment.objects.select_for_update(no_key=True).get(pk=_unlocked.pk)
        if locked.status != S.COMPLETED or locked.direction != "incoming":
            raise refuse(locked, "assign", "only completed incoming payments can be assigned")
        requested = []
        for i, (inv, amount) in enumerate(allocations):
            invoice = invoices[inv.pk if isinstance(inv, Invoice) else int(inv)]
            where = f"allocations[{i}]"
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
            requested.append((invoice, money))
        total = sum((m for _i, m in requested), Money(0, account.currency))
        free_in_payment = locked.amount - locked.amount_allocated - locked.amount_reversed
        if total > free_in_payment:
            raise InvalidInput(
                f"allocations: {format_money(total)} is more than the "
                f"{format_money(free_in_payment)} of payment {locked.number} not yet allocated.",
                field="allocations",
            )
        credit = free_credit(account)
        if total > credit:
            raise StateConflict(
                f"allocations: the account's free credit is {format_money(credit)}; "
                f"{format_money(total)} cannot be assigned (the rest was already used).",
                field="allocations",
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
        if invoice is not None:
            allocate(locked, invoice, min(locked.amount, invoice.amount_due), actor, at)
        label = f"invoice {invoice.number}" if invoice else f"payment {locked.number}"
        ledger.post(
            account=account,
            postings=[
                Posting(
                    kind=EntryKind.PAYMENT,
                    amount=locked.amount,
                    reference=locked.reference_code,
                    description=f"Paid from balance: {label}",
                    invoice=invoice,
                    source=locked,
                    method=PaymentMethod.ACCOUNT_BALANCE,
                ),
                Posting(
                    kind=EntryKind.CREDIT,
                    amount=-locked.amount,
                    reference=locked.reference_code,
                    description=f"Account credit used for {label}",
                    invoice=invoice,
                    source=locked,
                ),
            ],
            actor=actor,
            at=at,
        )
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


def request_wallet_top_up(
    *, wallet: Wallet | int, amount, actor: Actor, method: str = "", due_date=None
) -> Payment:
    """Open a ``top_up`` payment for a wallet; the wallet is credited when it completes."""
    wallet_id = wallet.pk if isinstance(wallet, Wallet) else int(wallet)
    with transaction.atomic():
        account_id = Wallet.objects.values_list("account_id", flat=True).get(pk=wallet_id)
        account = ledger.lock_account(account_id)
        locked = wallets.lock_wallet(wallet_id)
        if not locked.is_active:
            raise StateConflict(f"Wallet '{locked.name}' is closed.", field="wallet")
        if method:
            _clean_method(method)
        return create_payment(
            account=account,
            type=PaymentType.TOP_UP,
            amount=to_money(amount, account.currency),
            actor=actor,
            method=method,
            due_date=due_date,
            wallet=locked,
            reason=f"top-up of wallet '{locked.name}'",
        )


def apply_wallet(
    *, wallet: Wallet | int, invoice: Invoice | int, actor: Actor, amount=None, at=None
):
    """Apply wallet money to an invoice and shrink (or cancel) its waiting payment."""
    with transaction.atomic():
        result = wallets.apply_to_invoice(
            wallet=wallet, invoice=invoice, actor=actor, amount=amount, at=at
        )
        _account, locked = ledger.lock_invoice(invoice)
        if locked.status != InvoiceStatus.ONGOING:
            sync_open_payment(locked, actor, reason="prepaid from wallet")
        return result
