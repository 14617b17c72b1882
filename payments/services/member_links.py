"""A member's *Pay now*: the invoice's payment link, reused while it has life left, or a
new one (``create_payment_link``).

A member may click *Pay now* many times (twice by mistake, again from another tab, again
tomorrow): each click must not leave another live link behind. Under the invoice lock
(so two clicks at once make one link at most) the newest unpaid link that still has
``REUSE_MIN_LEFT`` to live is handed back; otherwise a new one is made. The invoice must
be payable either way — the same refusals as ``create_payment_link``, also for a reused
link (an invoice paid or cancelled since is refused, not sent to its old link).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ledger import services as ledger
from ledger.errors import StateConflict
from ledger.models import Invoice
from ledger.models.invoices import OPEN
from ledger.services import Actor

from ..models import PaymentLink
from .gateway_flows import create_payment_link
from .waiting import awaiting_erp

REUSE_MIN_LEFT = timedelta(days=1)


def member_payment_link(*, invoice: Invoice | int, actor: Actor) -> PaymentLink:
    """The link a member's *Pay now* opens for ``invoice`` (reused or new)."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        if locked.status not in OPEN or locked.amount_due.amount <= 0:
            raise StateConflict(f"Invoice {locked} has nothing to pay.", field="invoice")
        if awaiting_erp(locked):
            raise StateConflict(
                f"Invoice {locked} is not payable until the ERP approves it.", field="invoice"
            )
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
