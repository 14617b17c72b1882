"""A member's *Pay now*: the invoice's payment link, reused while it has life left, or a
new one (``create_payment_link``).

A member may click *Pay now* many times (twice by mistake, again from another tab, again
tomorrow): each click must not leave another live link behind. Under the invoice lock
(so two clicks at once make one link at most) the newest unpaid link that still has
``REUSE_MIN_LEFT`` to live is handed back; otherwise a new one is made. The invoice must
be payable by card now either way — money owed and its payment *waiting for payment*
(not waiting for the ERP, not already with a gateway, not asked for by a bank-transfer
receipt) — also for a reused link: an invoice paid or cancelled since is refused, not
sent to its old link.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ledger import services as ledger
from ledger.errors import StateConflict
from ledger.models import Invoice
from ledger.models.invoices import OPEN
from ledger.services import Actor

from ..models import PaymentLink, PaymentStatus
from .common import open_payment_for
from .gateway_flows import create_payment_link

REUSE_MIN_LEFT = timedelta(days=1)

S = PaymentStatus
NOT_BY_CARD = {
    S.PENDING_BILLING: "is not payable until the ERP approves it",
    S.PROCESSING: "has a payment being processed already",
    S.RECEIPT_CREATING: "is being receipted for a bank transfer or cash payment",
    S.RECEIPT_SENT: "has a receipt asking for a bank transfer or cash payment",
}


def card_payable_refusal(invoice: Invoice, payment) -> str | None:
    """Why the invoice cannot be paid by card now (None: it can). ``payment``: its
    waiting payment (``open_payment_for``)."""
    if invoice.status not in OPEN or invoice.amount_due.amount <= 0 or payment is None:
        return "has nothing to pay"
    if payment.status != S.WAITING_FOR_PAYMENT:
        return NOT_BY_CARD.get(payment.status, f"has its payment {payment.get_status_display()}")
    return None


def member_payment_link(*, invoice: Invoice | int, actor: Actor) -> PaymentLink:
    """The link a member's *Pay now* opens for ``invoice`` (reused or new)."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        why = card_payable_refusal(locked, open_payment_for(locked))
        if why:
            raise StateConflict(f"Invoice {locked} {why}.", field="invoice")
        reusable = (
            PaymentLink.objects.filter(
                invoice=locked,
                paid_at__isnull=True,
                expires_at__gt=timezone.now() + REUSE_MIN_LEFT,
            )
            .order_by("-expires_at", "-id")
            .first()
        )
        if reusable is not None:
            return reusable
        return create_payment_link(invoice=locked.pk, actor=actor)
