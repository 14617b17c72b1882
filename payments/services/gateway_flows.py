"""Payments through a gateway: card payments, direct debits (also forced by staff on an
unpaid invoice) and payment links (SPEC section 5). Gateway refunds are
``gateway_refunds``; the calls themselves are made after commit (``gateway_calls``)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Invoice
from ledger.models.invoices import OPEN
from ledger.services import Actor

from .. import gateways
from ..models import CallKind, LinkState, Payment, PaymentLink, PaymentStatus
from .common import lock_payment, open_payment_for
from .gateway_calls import mask_iban, record_intent, send_after_commit
from .mandates import mandate_for
from .transitions import apply, refusal, refuse
from .waiting import awaiting_erp

S = PaymentStatus
LINK_SALT = "billfold.payment-link"


def gateway_for(method: str) -> gateways.Gateway:
    """The gateway configured for ``method``, or a clear refusal."""
    try:
        return gateways.for_method(method)
    except LookupError as exc:
        raise StateConflict(str(exc), field="method") from None


def _start(payment: Payment, kind: str, method: str, actor: Actor, request: dict):
    """Send a locked waiting payment to the gateway for ``method``: it is ``processing``
    from now on (nothing else may act on it) and the call is recorded, to be made once
    this transaction commits (``gateway_calls``); the webhook says how it ended."""
    if payment.method and payment.method != method:
        raise InvalidInput(
            f"method: payment {payment.number} is a {payment.get_method_display()} payment.",
            field="method",
        )
    why = refusal(payment, "start_processing", method=method)
    if why:
        raise refuse(payment, "start_processing", why)
    gateway = gateway_for(method)
    payment.method = method
    payment.gateway = gateway.name
    payment.gateway_reference = None  # the gateway's, once it accepts the call
    payment.decline_reason = ""
    apply(
        payment,
        "start_processing",
        actor=actor,
        reason=f"sent to {gateway.name}",
        extra_fields=["method", "gateway", "gateway_reference", "decline_reason"],
    )
    return payment, record_intent(payment, kind, gateway.name, request)


def _after(payment: Payment) -> Payment:
    """Outside a transaction the call has been made: show its outcome."""
    if not transaction.get_connection().in_atomic_block:
        payment.refresh_from_db()
    return payment


def start_card_payment(*, payment: Payment | int, card_number: str, actor: Actor) -> Payment:
    digits = "".join(c for c in (card_number or "") if c.isdigit())
    if not 12 <= len(digits) <= 19:
        raise InvalidInput("card_number: 12 to 19 digits expected.", field="card_number")
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        started, call = _start(
            locked, CallKind.CARD_PAYMENT, "card", actor, {"card": f"…{digits[-4:]}"}
        )
        send_after_commit(call, card_number=digits)
    return _after(started)


def clean_iban(iban: str | None) -> str:
    """The IBAN without spaces, upper case; refused (``iban``) unless it looks like one."""
    iban = (iban or "").replace(" ", "").upper()
    if not (15 <= len(iban) <= 34 and iban[:2].isalpha() and iban[2:].isalnum()):
        raise InvalidInput("iban: not an IBAN (country code, then 13 to 32 characters).", "iban")
    return iban


def start_direct_debit(
    *, payment: Payment | int, actor: Actor, iban: str | None = None, mandate=None
) -> Payment:
    """Collect a waiting payment by direct debit: with the IBAN typed (used once, never
    stored), else under ``mandate`` or, by default, the account's active mandate."""
    if iban and mandate is not None:
        raise InvalidInput("iban: give an IBAN or a mandate, not both.", field="iban")
    iban = clean_iban(iban) if iban else None
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        chosen = None if iban else mandate_for(locked, mandate)  # under the account lock
        request = (
            {"iban": mask_iban(iban)}
            if iban
            else {"mandate": chosen.reference, "iban": chosen.iban_masked}
        )
        started, call = _start(locked, CallKind.DIRECT_DEBIT, "direct_debit", actor, request)
        if chosen is not None:
            call.mandate = chosen
            call.save(update_fields=["mandate"])
            send_after_commit(call)
        else:
            send_after_commit(call, iban=iban)
    return _after(started)


def force_direct_debit(
    *, invoice: Invoice | int, actor: Actor, iban: str | None = None, mandate=None
) -> Payment:
    """Staff collect an unpaid invoice by direct debit now (the member's mandate)."""
    with transaction.atomic():
        _account, locked = ledger.lock_invoice(invoice)
        payment = open_payment_for(locked)
        if locked.status not in OPEN or payment is None:
            raise StateConflict(f"Invoice {locked} has no payment waiting.", field="invoice")
        return start_direct_debit(payment=payment.pk, iban=iban, mandate=mandate, actor=actor)


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


def link_url(link: PaymentLink) -> str:
    """The link's absolute URL for an email (no request to build it from):
    ``BILLFOLD_SITE_URL`` + the payment-link page."""
    path = reverse("payment-link", args=[link_token(link)])
    return settings.BILLFOLD_SITE_URL.rstrip("/") + path


def resolve_link(token: str) -> PaymentLink | None:
    """The link behind a token, or None (bad signature, unknown nonce)."""
    try:
        nonce = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    return (
        PaymentLink.objects.select_related("invoice", "account", "payment")
        .filter(nonce=nonce)
        .first()
    )


def open_link(link: PaymentLink) -> None:
    if link.opened_at is None:
        PaymentLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )


def pay_link(*, link: PaymentLink, card_number: str, actor: Actor) -> Payment:
    """Pay the link's invoice (or its top-up payment) by card through the gateway
    (refused once paid/expired)."""
    with transaction.atomic():
        locked = PaymentLink.objects.select_for_update(no_key=True).get(pk=link.pk)
        state = locked.state
        if state in (LinkState.PAID, LinkState.EXPIRED):
            raise StateConflict(f"This payment link is {state}.", field="link")
        top_up = locked.invoice_id is None  # a top-up's link: its own payment
        payment = locked.payment if top_up else open_payment_for(locked.invoice)
        if payment is None or payment.status != S.WAITING_FOR_PAYMENT:
            raise StateConflict(
                ("This top-up" if top_up else f"Invoice {locked.invoice}")
                + " has no payment waiting"
                + (" (a payment is being processed)." if payment else "."),
                field="link",
            )
        started = start_card_payment(payment=payment.pk, card_number=card_number, actor=actor)
        locked.payment = started
        locked.save(update_fields=["payment"])
        return started


def mark_links_paid(payment: Payment) -> None:
    PaymentLink.objects.filter(payment=payment, paid_at__isnull=True).update(paid_at=timezone.now())
