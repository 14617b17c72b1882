"""Timelines in words: what happened to an invoice or a payment, who did it, when, the
amounts and the reason — read from the records the services already write (payment
transitions, ledger entries, allocations, wallet movements, payment links, the admin's
change log). Nothing is stored for the timeline itself.

Each timeline costs a fixed handful of queries whatever its length.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from moneyed import Money

from ledger.models import EntryKind, Invoice, LedgerEntry
from ledger.money import format_money
from ledger.selectors import entry_reference
from wallets.models import TxKind, WalletTransaction

from ..models import (
    Payment,
    PaymentAllocation,
    PaymentLink,
    PaymentStatus,
    PaymentTransition,
    Reminder,
)

# What each transition of the payment state machine means, in words.
TRANSITION_WORDS = {
    "create": "created",
    "approve": "approved by the ERP",
    "expire": "expired (not paid by its due date)",
    "cancel": "cancelled",
    "create_receipt": "receipt created",
    "send_receipt": "receipt sent",
    "start_processing": "sent to the payment gateway",
    "fail_processing": "declined by the gateway",
    "mark_paid": "marked as paid",
    "complete_from_gateway": "paid through the gateway",
    "pay_from_balance": "paid from the account balance",
}
STATUS_LABELS = dict(PaymentStatus.choices)
HOLD_WORDS = {
    TxKind.HOLD: "held",
    TxKind.HOLD_CHANGE: "hold changed",
    TxKind.HOLD_RELEASE: "hold released",
}


def transition_label(name: str) -> str:
    """``mark_paid`` -> ``Marked as paid`` (unknown names read as words, never codes)."""
    words = TRANSITION_WORDS.get(name) or name.replace("_", " ")
    return words[0].upper() + words[1:]


def status_label(code: str) -> str:
    return STATUS_LABELS.get(code) or (code or "—").replace("_", " ").capitalize()


@dataclass
class Event:
    at: datetime
    who: str
    what: str
    amount: Money | None = None
    reason: str = ""
    kind: str = ""  # a CSS hint: entry-invc, transition, hold, link, change
    order: int = 0  # within one instant: the order the records were written


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.at, e.order))


def _entry_event(entry: LedgerEntry, order: int) -> Event:
    reference = entry_reference(entry)
    if entry.kind == EntryKind.INVOICE and entry.amount.amount > 0:
        what = f"Issued: {entry.description}, posted to the ledger ({reference})"
    else:
        what = f"{entry.description} ({reference})"
    return Event(entry.posted_at, entry.actor_label, what, entry.amount, kind="entry", order=order)


def _payment_words(payment: Payment) -> str:
    kind = "Refund" if payment.refund_of_id else "Payment"
    if payment.dispute_of_id:
        kind = "Dispute"
    elif getattr(payment, "return_of_id", None):
        kind = "Direct-debit return"
    return f"{kind} {payment.number}"


def _transition_event(t: PaymentTransition, order: int, *, own: bool) -> Event:
    payment = t.payment
    subject = "" if own else f"{_payment_words(payment)}: "
    if t.name == "create":
        verb = "Recorded" if payment.direction == "outgoing" else "Opened"
        if not own:
            verb = verb.lower()
        what = f"{subject}{verb}, {status_label(t.target).lower()}"
    else:
        what = (
            f"{subject}{transition_label(t.name)} "
            f"({status_label(t.source)} → {status_label(t.target)})"
        )
    amount = payment.amount if t.name in ("create", "mark_paid") else None
    return Event(t.at, t.actor_label, what, amount, t.reason, "transition", order)


FIELD_WORDS = {
    "description": "description",
    "quantity": "quantity",
    "unit_price": "unit price",
    "amount": "amount",
    "due_date": "due date",
    "series": "series",
    "is_prepaid_order": "prepaid order",
}


def _changed(changes: dict) -> str:
    # In the fields' own order (PostgreSQL's jsonb does not keep the order written).
    order = list(FIELD_WORDS)
    names = sorted(changes, key=lambda n: (order.index(n) if n in order else len(order), n))
    parts = [
        f"{FIELD_WORDS.get(name, name)} {before or '—'} → {after or '—'}"
        for name in names
        if isinstance(changes[name], list) and len(changes[name]) == 2
        for before, after in [changes[name]]
    ]
    return "; ".join(parts)


def _change_words(change, currency: str) -> tuple[str, Money | None]:
    data, action = change.changes or {}, change.action
    line = data.get("line") if isinstance(data.get("line"), dict) else None
    if action == "create":
        count = len(data.get("lines", []))
        return f"Draft created with {count} line{'s' if count != 1 else ''}", None
    if action == "update":
        return f"Header changed: {_changed(data)}", None
    if action == "add_line" and line:
        words = f"Line added: {line['description']}, {line['quantity']} × {line['unit_price']}"
        return words, Money(line["amount"], currency)
    if action == "update_line":
        after = data.get("amount", [None, None])[1]
        return f"Line changed: {_changed(data)}", Money(after, currency) if after else None
    if action == "remove_line" and line:
        return f"Line removed: {line['description']}", Money(line["amount"], currency)
    if action == "open":
        return "Opened as ongoing: its amount follows consumption until it is issued", None
    if action == "void":
        return "Cancelled", None
    return change.get_action_display(), None


def _change_events(invoice: Invoice, order: int) -> list[Event]:
    """The invoice's own audit log (``ledger.models.InvoiceChange``): drafts and their
    lines, opening; issuing and cancelling a posted invoice are told by its entries."""
    events = []
    for change in invoice.changes.order_by("at", "id"):
        if change.action == "post" or (change.action == "void" and invoice.number):
            continue
        what, amount = _change_words(change, invoice.currency)
        reason = (change.changes or {}).get("reason", "") if change.action == "void" else ""
        events.append(Event(change.at, change.actor_label, what, amount, reason, "change", order))
    return events


def _hold_events(invoice: Invoice, order: int) -> list[Event]:
    rows = (
        WalletTransaction.objects.filter(invoice=invoice, kind__in=list(HOLD_WORDS))
        .select_related("wallet")
        .order_by("at", "id")
    )
    return [
        Event(
            tx.at,
            tx.actor_label,
            f"Wallet '{tx.wallet.name}': {HOLD_WORDS[tx.kind]} — {tx.description}",
            tx.amount,
            kind="hold",
            order=order,
        )
        for tx in rows
    ]


def _link_events(invoice: Invoice, order: int) -> list[Event]:
    events = []
    links = list(PaymentLink.objects.filter(invoice=invoice).select_related("created_by"))
    for link in links:
        who = link.created_by.get_username() if link.created_by else "system"
        until = timezone.localtime(link.expires_at)
        events.append(
            Event(
                link.created_at,
                who,
                f"Payment link created, valid until {until:%d %b %Y}",
                kind="link",
                order=order,
            )
        )
        if link.opened_at:
            events.append(Event(link.opened_at, "member", "Payment link opened", kind="link"))
        if link.paid_at:
            events.append(
                Event(link.paid_at, "member", "Paid through the payment link", kind="link")
            )
    content_type = ContentType.objects.get_for_model(PaymentLink)
    sent = LogEntry.objects.filter(
        content_type=content_type, object_id__in=[str(link.pk) for link in links]
    ).select_related("user")
    events += [
        Event(row.action_time, row.user.get_username(), row.get_change_message(), kind="link")
        for row in sent
    ]
    return events


def _reminder_words(r: Reminder) -> tuple[datetime, str]:
    """In words: Reminder 'First reminder' sent to x@y by the reminder run."""
    by = "by the reminder run" if r.trigger == "run" else f"by {r.actor_label}"
    name = f"Reminder '{r.level.name}'"
    if r.status == "sent":
        return r.sent_at, f"{name} sent to {r.sent_to} {by}"
    if r.status == "failed":
        return r.created_at, f"{name} to {r.sent_to} {by}: the email failed ({r.error})"
    if r.status == "queued":
        return r.created_at, f"{name} to {r.sent_to} {by}: queued, not sent yet"
    return r.created_at, f"{name} skipped: {r.error}"


def _reminder_events(invoice: Invoice, order: int) -> list[Event]:
    rows = Reminder.objects.filter(invoice=invoice).select_related("level").order_by("id")
    events = []
    for r in rows:
        at, what = _reminder_words(r)
        events.append(Event(at, r.actor_label, what, kind="reminder", order=order))
    return events


def _assigned_events(invoice: Invoice, order: int) -> list[Event]:
    """Money of other payments (account credit, group payments) applied to the invoice;
    its own payment's allocation is told by its ``PAYM`` entry."""
    rows = (
        PaymentAllocation.objects.filter(invoice=invoice, amount__gt=0)
        .exclude(payment__invoice=invoice)
        .select_related("payment")
        .order_by("created_at", "id")
    )
    return [
        Event(
            a.created_at,
            a.actor_label,
            f"{a.payment.get_type_display()} payment {a.payment.number} applied to this invoice"
            + (" (group payment)" if a.payment.batch_id else ""),
            a.amount,
            kind="allocation",
            order=order,
        )
        for a in rows
    ]


def _is_reversal(payment: Payment) -> bool:
    return bool(
        payment.refund_of_id or payment.dispute_of_id or getattr(payment, "return_of_id", None)
    )


def _reversal_pairs(entries, transitions) -> tuple[set, list[Event]]:
    """A refund, dispute or return reads as ONE event: its opening transition and the
    entry pair it posted (``INVC`` − and ``PAYM`` −) folded together, with the reason.
    Returns the folded entries' and transitions' ids and the events."""
    payment_type = ContentType.objects.get_for_model(Payment).pk
    by_payment: dict[int, list] = {}
    for entry in entries:
        if entry.source_type_id == payment_type and entry.amount.amount < 0:
            by_payment.setdefault(entry.source_id, []).append(entry)
    folded, events = set(), []
    for t in transitions:
        payment = t.payment
        own = by_payment.get(payment.pk)
        if t.name != "create" or not own or not _is_reversal(payment):
            continue
        references = " and ".join(entry_reference(e) for e in own)
        what = (
            f"{_payment_words(payment)}: {format_money(payment.amount)} back to the member, "
            f"{status_label(payment.status).lower()} (ledger: {references})"
        )
        events.append(Event(t.at, t.actor_label, what, -payment.amount, t.reason, "entry", 3))
        folded.add(t.pk)
        folded.update(e.pk for e in own)
    return folded, events


def invoice_timeline(invoice: Invoice) -> list[Event]:
    """Everything that happened to ``invoice``, oldest first."""
    events = _change_events(invoice, 0)
    if events and events[0].what.startswith("Draft created"):
        # Imported or back-dated invoices are issued "before" their row was written:
        # the draft still comes first in their story.
        if invoice.issued_at and events[0].at > invoice.issued_at:
            events[0].at = invoice.issued_at
    else:
        # An invoice older than its audit log: its creation from the row itself.
        creator = invoice.created_by.get_username() if invoice.created_by_id else "system"
        created = min(filter(None, [invoice.created_at, invoice.issued_at]))
        events.insert(0, Event(created, creator, "Draft created", kind="created"))
    entries = list(LedgerEntry.objects.filter(invoice=invoice).order_by("seq"))
    transitions = list(
        PaymentTransition.objects.filter(payment__invoice=invoice)
        .select_related("payment")
        .order_by("at", "id")
    )
    folded, pairs = _reversal_pairs(entries, transitions)
    events += pairs
    events += [_entry_event(e, 2) for e in entries if e.pk not in folded]
    events += [_transition_event(t, 3, own=False) for t in transitions if t.pk not in folded]
    events += _assigned_events(invoice, 4) + _hold_events(invoice, 1) + _link_events(invoice, 5)
    events += _reminder_events(invoice, 6)
    return _sorted(events)


def _reversal_events(payment: Payment) -> list[Event]:
    from django.db.models import Q

    rows = Payment.objects.filter(Q(refund_of=payment) | Q(dispute_of=payment)).order_by("id")
    return [
        Event(
            r.created_at,
            "",
            f"{_payment_words(r)} recorded against it",
            r.amount,
            r.note,
            kind="reversal",
            order=4,
        )
        for r in rows
    ]


def payment_timeline(payment: Payment) -> list[Event]:
    """Everything that happened to ``payment``, oldest first."""
    transitions = payment.transitions.select_related("payment").order_by("at", "id")
    events = [_transition_event(t, 1, own=True) for t in transitions]
    content_type = ContentType.objects.get_for_model(Payment)
    entries = LedgerEntry.objects.filter(source_type=content_type, source_id=payment.pk)
    events += [_entry_event(e, 2) for e in entries.order_by("seq")]
    allocations = payment.allocations.select_related("invoice").order_by("created_at", "id")
    for a in allocations:
        verb = "applied to" if a.amount.amount > 0 else "taken back from"
        events.append(
            Event(
                a.created_at,
                a.actor_label,
                f"Money {verb} invoice {a.invoice}",
                a.amount,
                kind="allocation",
                order=3,
            )
        )
    wallet_moves = WalletTransaction.objects.filter(source_type=content_type, source_id=payment.pk)
    for tx in wallet_moves.select_related("wallet").order_by("at", "id"):
        what = f"Wallet '{tx.wallet.name}': {tx.get_kind_display().lower()} — {tx.description}"
        events.append(Event(tx.at, tx.actor_label, what.rstrip(" —"), tx.amount, kind="wallet"))
    events += _reversal_events(payment)
    for event in payment.events.order_by("received_at", "id"):
        what = f"Gateway {event.gateway}: {event.type} ({event.get_status_display().lower()})"
        events.append(Event(event.received_at, event.gateway, what, None, event.detail, "gateway"))
    return _sorted(events)
