"""Payment-aware invoice cancellation, ERP approval, receipts and expiry."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.errors import InvalidInput
from ledger.models import Invoice
from ledger.services import Actor
from wallets import services as wallets

from ..models import Payment, PaymentStatus, PaymentType, ReceiptKind
from ..models.payments import RECEIPT_METHODS
from .common import lock_payment, open_payment_for
from .credit_notes import credit_cancellation
from .receipts import freeze_receipt
from .transitions import apply, refusal, refuse

S = PaymentStatus


def cancel_invoice(*, invoice: Invoice | int, actor: Actor, reason: str = "", at=None) -> Invoice:
    """Cancel an invoice with nothing paid (ledger rules) and its waiting payment; an
    issued one gets a credit note for its negative ``INVC``."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        payment = open_payment_for(locked)
        if payment is not None and payment.status == S.PROCESSING:
            raise refuse(payment, "cancel", "a gateway is processing its payment")
        locked, entries = ledger.void_invoice(invoice=locked, actor=actor, reason=reason, at=at)
        credit_cancellation(entries, actor=actor, reason=reason)
        wallets.release_holds(invoice=locked, actor=actor, reason="cancelled", at=at)
        if payment is not None:
            apply(payment, "cancel", actor=actor, reason=reason or "invoice cancelled", at=at)
        events.emit(
            EventType.INVOICE_CANCELLED, account=locked.account_id, objects={"invoice": locked}
        )
        return locked


def cancel_payment(*, payment: Payment | int, actor: Actor, reason: str = "") -> Payment:
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        return apply(locked, "cancel", actor=actor, reason=reason)


def approve_by_erp(*, payment: Payment | int, actor: Actor, reason: str = "") -> Payment:
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        return apply(locked, "approve", actor=actor, reason=reason)


def _receipt_number(payment: Payment) -> str:
    return "R-" + payment.number.removeprefix("P-")


def create_receipt(
    *, payment: Payment | int, actor: Actor, method: str | None = None, note: str = ""
) -> Payment:
    """Staff start a receipt by hand (bank transfer and cash only): its figures are
    frozen now, as a request to pay (``receipts``)."""
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        chosen = method or locked.method
        if locked.method and method and method != locked.method:
            raise InvalidInput(
                f"method: payment {locked.number} is a {locked.get_method_display()} payment.",
                field="method",
            )
        if chosen not in RECEIPT_METHODS:
            raise refuse(
                locked,
                "create_receipt",
                f"only bank_transfer and cash payments go through receipts (method: "
                f"{chosen or 'none'})",
            )
        why = refusal(locked, "create_receipt", method=chosen)
        if why:
            raise refuse(locked, "create_receipt", why)
        locked.method = chosen
        locked.receipt_number = _receipt_number(locked)
        locked.receipt_created_at = timezone.now()
        apply(
            locked,
            "create_receipt",
            actor=actor,
            reason=note,
            extra_fields=["method", "receipt_number", "receipt_created_at"],
        )
        freeze_receipt(locked, ReceiptKind.REQUEST, at=locked.receipt_created_at)
        return locked


def send_receipt(*, payment: Payment | int, actor: Actor, to: str | None = None) -> Payment:
    """Record that the receipt goes to the member: ``receipt_sent``, with the address.

    The email itself (with the PDF) is the documents layer's, sent after this commits
    (``billing_site.documents.receipts.send_receipt``): nothing slow under the lock."""
    with transaction.atomic():
        account, locked = lock_payment(payment)
        why = refusal(locked, "send_receipt")
        if why:
            raise refuse(locked, "send_receipt", why)
        recipient = to or account.email
        locked.receipt_sent_at = timezone.now()
        locked.receipt_sent_to = recipient
        apply(
            locked,
            "send_receipt",
            actor=actor,
            reason=f"sent to {recipient}",
            extra_fields=["receipt_sent_at", "receipt_sent_to"],
        )
        return locked


def expire_due_payments(
    *, today: date | None = None, batch: int = 200, actor: Actor | None = None
) -> int:
    """Expire every waiting postpay payment past its due date; returns how many.

    Safe to run from cron on several hosts at once: each batch takes its rows with
    ``FOR UPDATE SKIP LOCKED``, so two runs never wait for or expire the same payment.
    """
    today = today or timezone.localdate()
    actor = actor or ledger.system_actor("expire_payments")  # staff or a key: named
    expired = 0
    while True:
        with transaction.atomic():
            rows = list(
                Payment.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(
                    status=S.WAITING_FOR_PAYMENT,
                    type=PaymentType.RENDERED_SERVICES,
                    due_date__lt=today,
                )
                .order_by("id")[:batch]
            )
            for payment in rows:
                apply(payment, "expire", actor=actor, reason=f"due {payment.due_date}")
            expired += len(rows)
        if len(rows) < batch:
            return expired
