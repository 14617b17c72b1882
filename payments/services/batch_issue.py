"""Issuing many ongoing invoices at once: the billing run's batches (docs/RULES.md
"Billing run").

The same steps as ``issue_invoice`` — number, ``POST`` change, ``INVC`` posting, the
``invoice.issued`` event, holds captured as credit memos (``CRMO``), the invoice
settled, the waiting payment opened — each built by the function ``issue_invoice``'s
own steps use, in memory, then written with one statement per table (and one posting
statement per invoice). The numbers are taken after everything is read and checked, so
the numbering counter is held only while the batch writes and commits.

An invoice the batch does not take as it stands goes back to the caller, who issues it
through ``issue_invoice`` one at a time: the account has credit to apply at issue, its
holds exceed what it owes, or it cannot be issued at all (the service then says why).
The caller holds the accounts' locks, inside its transaction; this takes the invoices,
the lines, the wallets and the holds, in the order of ``ledger.locks``.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.utils import timezone
from django_fsm import can_proceed

from events import services as events
from events.models import EventType
from events.rendering import render_now
from ledger import services as ledger
from ledger.bulk import update_rows
from ledger.models import Account, Invoice, InvoiceAction, InvoiceChange, InvoiceLine
from ledger.services import Actor
from ledger.services.invoice_changes import change_row
from ledger.services.invoices import apply_settlement
from ledger.services.issue_steps import (
    ISSUED_FIELDS,
    invoice_posting,
    issued_change,
    mark_issued,
    take_numbers,
)
from wallets.services import batch_capture

from ..models import Payment, PaymentStatus, PaymentTransition, PaymentType
from .common import payment_row, transition_row
from .waiting import payment_type_for

INVOICE_FIELDS = [*ISSUED_FIELDS, "amount_credited"]


def _fast(invoice: Invoice, account: Account, held) -> bool:
    """Whether the batch takes the invoice as it stands (else ``issue_invoice`` does)."""
    return (
        can_proceed(invoice._issue)
        and invoice.total.amount > 0
        and account.balance.amount <= 0  # no credit to apply at issue
        and batch_capture.capturable(invoice, held)
    )


def _lines(invoices: list[Invoice]) -> dict[int, list[InvoiceLine]]:
    lines = defaultdict(list)
    rows = InvoiceLine.objects.select_for_update(no_key=True).filter(
        invoice_id__in=[i.pk for i in invoices]
    )
    for line in rows.order_by("invoice_id", "position", "id"):
        lines[line.invoice_id].append(line)
    return lines


def _erp_approved(invoice_ids: list[int]) -> set[int]:
    return set(
        PaymentTransition.objects.filter(
            payment__invoice_id__in=invoice_ids, name="approve"
        ).values_list("payment__invoice_id", flat=True)
    )


def _numbers(invoices: list[Invoice]) -> dict[int, tuple[int, str]]:
    """Gapless numbers for the invoices, per series, in invoice order."""
    by_series = defaultdict(list)
    for invoice in invoices:
        by_series[invoice.series].append(invoice)
    numbers = {}
    for series in sorted(by_series):
        taken = take_numbers(series, len(by_series[series]))
        numbers.update(zip((i.pk for i in by_series[series]), taken, strict=True))
    return numbers


class _Batch:
    """The batch's rows and events, gathered in memory, then written."""

    def __init__(self, actor: Actor, approved: set[int]):
        self.actor, self.approved = actor, approved
        self.captures = batch_capture.Captures(actor)
        self.changes: list[InvoiceChange] = []
        self.payments: list[Payment] = []
        self.issued_payloads: dict[int, dict] = {}
        self.paid: set[int] = set()

    def issue(self, invoice: Invoice, account: Account, number, lines, held):
        when = timezone.now()
        mark_issued(invoice, account, number, when)
        self.changes.append(
            change_row(invoice, InvoiceAction.POST, self.actor, issued_change(invoice), at=when)
        )
        invoice._prefetched_objects_cache = {"lines": lines}
        self.issued_payloads[invoice.pk] = render_now(invoice)  # as issue_invoice emits it
        captured = self.captures.capture(invoice, lines, held)
        if captured.amount > 0 and apply_settlement(invoice, credited=captured):
            self.paid.add(invoice.pk)
        if invoice.amount_due.amount > 0:
            self.payments.append(self._waiting(invoice, account))

    def _waiting(self, invoice: Invoice, account: Account) -> Payment:
        """``open_waiting_payment``'s payment, unsaved."""
        kind = payment_type_for(invoice)
        erp = (
            kind == PaymentType.RENDERED_SERVICES
            and account.erp_managed
            and invoice.pk not in self.approved
        )
        return payment_row(
            account=account,
            type=kind,
            amount=invoice.amount_due,
            actor=self.actor,
            status=PaymentStatus.PENDING_BILLING if erp else PaymentStatus.WAITING_FOR_PAYMENT,
            method="",
            invoice=invoice,
            due_date=invoice.due_date,
            direction="incoming",
        )

    def write(self, invoices: list[Invoice], accounts: dict[int, Account]) -> None:
        update_rows(Invoice, invoices, INVOICE_FIELDS)
        InvoiceChange.objects.bulk_create(self.changes)
        crmo = self.captures.write()
        for invoice in invoices:  # one posting statement per invoice: INVC, then its CRMO
            postings = [invoice_posting(invoice), *crmo.get(invoice.pk, [])]
            ledger.post(account=accounts[invoice.account_id], postings=postings, actor=self.actor)
        Payment.objects.bulk_create(self.payments)
        PaymentTransition.objects.bulk_create(
            [
                transition_row(
                    p, name="create", source="", actor=self.actor, reason="invoice issued"
                )
                for p in self.payments
            ]
        )
        events.emit_many([e for invoice in invoices for e in self._events(invoice)])
        self.captures.announce()

    def _events(self, invoice: Invoice) -> list[tuple[str, int, dict]]:
        """The invoice's events, in ``issue_invoice``'s order: issued, each credit memo,
        paid (rendered as they stood: its lines are in memory as the batch left them)."""
        account = invoice.account_id
        found = [(EventType.INVOICE_ISSUED, account, {"invoice": self.issued_payloads[invoice.pk]})]
        for memo in self.captures.memos_by_invoice[invoice.pk]:
            found.append(
                (EventType.CREDIT_MEMO_CREATED, account, {"credit_memo": render_now(memo)})
            )
        if invoice.pk in self.paid:
            found.append((EventType.INVOICE_PAID, account, {"invoice": render_now(invoice)}))
        return found


def issue_batch(
    invoice_ids: Iterable[int], accounts: dict[int, Account], actor: Actor
) -> tuple[dict[int, Invoice], list[int]]:
    """Issue the invoices the batch can take; return ``(issued by id, ids left for
    issue_invoice)``. ``accounts``: the invoices' accounts, locked by the caller."""
    invoices = list(
        Invoice.objects.select_for_update(no_key=True)
        .filter(pk__in=list(invoice_ids))
        .order_by("account_id", "pk")
    )
    holds = batch_capture.lock([i.pk for i in invoices])
    fast = [i for i in invoices if _fast(i, accounts[i.account_id], holds.get(i.pk, []))]
    left = [i.pk for i in invoices if i not in fast]
    if not fast:
        return {}, left
    lines = _lines(fast)
    batch = _Batch(actor, _erp_approved([i.pk for i in fast]))
    numbers = _numbers(fast)  # from here the numbering counters are held to commit
    for invoice in fast:
        account = accounts[invoice.account_id]
        held = holds.get(invoice.pk, [])
        batch.issue(invoice, account, numbers[invoice.pk], lines[invoice.pk], held)
    batch.captures.number(lambda count: take_numbers("CM", count))
    batch.write(fast, accounts)
    return {i.pk: i for i in fast}, left
