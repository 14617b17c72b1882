"""Payments through a gateway: card payments, direct debits (also forced by staff on an
unpaid invoice), gateway refunds, and payment links (SPEC section 5)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Invoice
from ledger.models.invoices import OPEN
from ledger.services import Actor

from .. import gateways
from ..models import LinkState, Payment, PaymentLink, PaymentStatus
from .common import lock_payment, open_payment_for
from .transitions import apply, refusal, refuse
from .waiting import awaiting_erp

S = PaymentStatus
LINK_SALT = "billfold.payment-link"


def _start(payment: Payment, method: str, actor: Actor, start) -> Payment:
    """Send a locked waiting payment to the gateway for ``method``; it is ``processing``
    until the gateway's webhook says how it ended."""
    if payment.method and payment.method != method:
        raise InvalidInput(
            f"method: payment {payment.number} is a {payment.get_method_display()} payment.",
            field="method",
        )
    why = refusal(payment, "start_processing", method=method)
    if why:
        raise refuse(payment, "start_processing", why)
    gateway = gateways.for_method(method)
    started = start(gateway)
    payment.method = method
    payment.gateway = gateway.name
    payment.gateway_reference = started.reference
    payment.decline_reason = ""
    return apply(
        payment,
        "start_processing",
        actor=actor,
        reason=f"{gateway.name} {started.reference}",
        extra_fields=["method", "gateway", "gateway_reference", "decline_reason"],
    )


def start_card_payment(*, payment: Payment | int, card_number: str, actor: Actor) -> Payment:
    digits = "".join(c for c in (card_number or "") if c.isdigit())
    if not 12 <= len(digits) <= 19:
        raise InvalidInput("card_number: 12 to 19 digits expected.", field="card_number")
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        return _start(
            locked, "card", actor, lambda g: g.start_card_payment(locked, card_number=digits)
        )


def start_direct_debit(*, payment: Payment | int, iban: str, actor: Actor) -> Payment:
    iban = (iban or "").replace(" ", "").upper()
    if not (15 <= len(iban) <= 34 and iban[:2].isalpha() and iban[2:].isalnum()):
        raise InvalidInput("iban: not an IBAN (country code, then 13 to 32 characters).", "iban")
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        return _start(
            locked, "direct_debit", actor, lambda g: g.start_direct_debit(locked, iban=iban)
        )


def force_direct_debit(*, invoice: Invoice | int, iban: str, actor: Actor) -> Payment:
    """Staff collect an unpaid invoice by direct debit now (the member's mandate)."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        payment = open_payment_for(locked)
        if locked.status not in OPEN or payment is None:
            raise StateConflict(f"Invoice {locked} has no payment waiting.", field="invoice")
        return start_direct_debit(payment=payment.pk, iban=iban, actor=actor)


def send_gateway_refund(refund: Payment, original: Payment) -> None:
    """Ask the original's gateway to pay a refund back (the refund stays ``processing``
    until the gateway confirms it)."""
    gateway = gateways.by_name(original.gateway)
    if gateway is None:
        raise StateConflict(f"Gateway {original.gateway!r} is not configured.", field="gateway")
    started = gateway.refund(refund, original=original)
    refund.gateway, refund.gateway_reference = gateway.name, started.reference
    refund.save(update_fields=["gateway", "gateway_reference"])


# --- payment links ---------------------------------------------------------------------


def create_payment_link(*, invoice: Invoice | int, actor: Actor, days: int | None = None):
    """A link for one invoice: unguessable (a random nonce), signed, expiring."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        if locked.status not in OPEN or locked.amount_due.amount <= 0:
            raise StateConflict(f"Invoice {locked} has nothing to pay.", field="invoice")
        if awaiting_erp(locked):
            raise StateConflict(
                f"Invoice {locked} is not payable until the ERP approves it.", field="invoice"
            )
        days = days or settings.PAYMENT_LINK_DAYS
        if not 1 <= days <= 90:
            raise InvalidInput("days: a link lives 1 to 90 days.", field="days")
        return PaymentLink.objects.create(
            invoice=locked,
            account_id=locked.account_id,
            nonce=secrets.token_urlsafe(32),
            expires_at=timezone.now() + timedelta(days=days),
            created_by=actor.user,
        )


def link_token(link: PaymentLink) -> str:
    return signing.dumps(link.nonce, salt=LINK_SALT, compress=True)


def resolve_link(token: str) -> PaymentLink | None:
    """The link behind a token, or None (bad signature, unknown nonce)."""
    try:
        nonce = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    return PaymentLink.objects.select_related("invoice", "account").filter(nonce=nonce).first()


def open_link(link: PaymentLink) -> None:
    if link.opened_at is None:
        PaymentLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )


def pay_link(*, link: PaymentLink, card_number: str, actor: Actor) -> Payment:
    """Pay the link's invoice by card through the gateway (refused once paid/expired)."""
    with transaction.atomic():
        locked = PaymentLink.objects.select_for_update(no_key=True).get(pk=link.pk)
        state = locked.state
        if state in (LinkState.PAID, LinkState.EXPIRED):
            raise StateConflict(f"This payment link is {state}.", field="link")
        payment = open_payment_for(locked.invoice)
        if payment is None or payment.status != S.WAITING_FOR_PAYMENT:
            raise StateConflict(
                f"Invoice {locked.invoice} has no payment waiting"
                + (" (a payment is being processed)." if payment else "."),
                field="link",
            )
        started = start_card_payment(payment=payment.pk, card_number=card_number, actor=actor)
        locked.payment = started
        locked.save(update_fields=["payment"])
        return started


def mark_links_paid(payment: Payment) -> None:
    PaymentLink.objects.filter(payment=payment, paid_at__isnull=True).update(paid_at=timezone.now())
