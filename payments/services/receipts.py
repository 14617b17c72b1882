"""Freezing a receipt's figures (``ReceiptSnapshot``): a request to pay when the receipt
is created, a receipt of money received when its payment completes.

Both are written in the transaction of the use case that makes them (``create_receipt``;
``complete`` for the money received), under the payment's lock. The documents layer
renders the latest one and nothing else.

How to pay: ``settings.BILLFOLD_PAYEE_BANK_DETAILS`` (the payee's bank details, one
item a line) when set, and always the receipt number as the payment reference; without
bank details, a plain instruction per method. Frozen into the request with the rest.
"""

from django.conf import settings
from django.utils import timezone
from moneyed import Money

from ledger.money import plain

from ..models import Payment, PaymentMethod, ReceiptKind, ReceiptSnapshot

K = ReceiptKind

INSTRUCTIONS = {
    PaymentMethod.BANK_TRANSFER: "Pay by bank transfer to the account on your invoice.",
    PaymentMethod.CASH: "Pay in cash to our billing team.",
}


def how_to_pay(payment) -> list[str]:
    """The lines telling the member how to pay this request."""
    details = [
        line.strip()
        for line in str(getattr(settings, "BILLFOLD_PAYEE_BANK_DETAILS", "") or "").splitlines()
        if line.strip()
    ]
    if payment.method == PaymentMethod.BANK_TRANSFER and details:
        lines = ["Pay by bank transfer to:", *details]
    else:
        lines = [INSTRUCTIONS.get(payment.method, "Contact our billing team to pay.")]
    return [*lines, f"Quote the reference {payment.receipt_number} with your payment."]


def _covered(payment, kind: str) -> tuple[list[dict], str]:
    """The invoices the receipt covers, with amounts, and what is left as account credit
    (received money that paid no invoice)."""
    if kind == K.REQUEST:
        invoice = payment.invoice
        rows = [{"number": invoice.number, "amount": plain(payment.amount)}] if invoice else []
        return rows, ""
    allocations = payment.allocations.filter(amount__gt=0, reversal_of__isnull=True)
    rows, allocated = [], 0
    for allocation in allocations.select_related("invoice").order_by("id"):
        rows.append({"number": allocation.invoice.number, "amount": plain(allocation.amount)})
        allocated += allocation.amount.amount
    rest = payment.amount.amount - allocated
    credit = plain(Money(rest, payment.currency)) if rest > 0 else ""
    return rows, credit


def receipt_figures(payment, kind: str, taken_at) -> dict:
    """What the receipt shows, as JSON-safe text (money as decimal strings)."""
    account = payment.account
    invoices, credit = _covered(payment, kind)
    figures = {
        "kind": str(kind),
        "title": K(kind).label,
        "receipt_number": payment.receipt_number,
        "issued_at": (payment.receipt_created_at or taken_at).isoformat(),
        "taken_at": taken_at.isoformat(),
        "account": {
            "name": account.name,
            "email": account.email,
            "external_ref": account.external_ref or "",
        },
        "payment": {
            "number": payment.number,
            "method": payment.method,
            "method_label": payment.get_method_display(),
            "reference": payment.reference,
        },
        "currency": payment.currency,
        "amount": plain(payment.amount),
        "invoices": invoices,
    }
    if kind == K.REQUEST:
        due = payment.due_date or (payment.invoice.due_date if payment.invoice else None)
        figures["due_date"] = due.isoformat() if due else ""
        figures["how_to_pay"] = how_to_pay(payment)
    else:
        figures["received_at"] = (payment.completed_at or taken_at).isoformat()
        figures["credit"] = credit
    return figures


def freeze_receipt(payment: Payment, kind: str, *, at=None) -> ReceiptSnapshot:
    """Write the ``kind`` version of the payment's receipt (the caller holds its lock)."""
    taken_at = at or timezone.now()
    return ReceiptSnapshot.objects.create(
        payment=payment,
        account_id=payment.account_id,
        receipt_number=payment.receipt_number,
        kind=kind,
        taken_at=taken_at,
        figures=receipt_figures(payment, kind, taken_at),
    )


def freeze_received(payment: Payment, *, at=None) -> Payment:
    """At completion: the receipt of money received, for a payment that has a receipt
    (a payment without one is returned as it is)."""
    if payment.receipt_number and payment.status == "completed":
        freeze_receipt(payment, K.RECEIVED, at=payment.completed_at or at)
    return payment


def latest_snapshot(payment: Payment) -> ReceiptSnapshot | None:
    """The version the receipt's PDF shows: money received once it arrived, else the
    request to pay."""
    versions = {s.kind: s for s in ReceiptSnapshot.objects.filter(payment=payment)}
    return versions.get(K.RECEIVED) or versions.get(K.REQUEST)
