"""The billing run's batch path writes what ``issue_invoice`` writes: the same history
built twice, issued once invoice by invoice through the service and once by a run's
batch, leaves the same invoices, lines, ledger entries, credit memos, wallet movements,
holds, payments, transitions, change log and events — all but ids, numbers and clocks."""

import re
from decimal import Decimal

import pytest
from django.db import transaction

from events.models import Event
from ledger import services as ledger
from ledger.models import Invoice, InvoiceChange, LedgerEntry
from payments import services as pay
from payments.models import Payment, PaymentTransition
from payments.selectors.billing_runs import run_counts
from payments.services import billing_runs as runs
from wallets import services as wallets
from wallets.models import CreditMemo, Hold, WalletTransaction

from .conftest import verify

D = Decimal
NUMBER = re.compile(r"\b(INV|CM)-\d{6}\b")


def world(make_account, make_ongoing, actor, tag):
    """Six ongoing invoices of ended periods, one per account, in account order."""

    def wallet(account, grant, name="Prepaid"):
        w = wallets.create_wallet(account=account, name=name, actor=actor)
        wallets.top_up(wallet=w, amount=grant, actor=actor, grant=True)
        return w

    plain = make_ongoing(make_account(name=f"{tag} plain"), "120.00", "30.00")
    part = make_ongoing(make_account(name=f"{tag} part"), "80.00")
    pay.apply_wallet(wallet=wallet(part.account, "50.00"), invoice=part, actor=actor)
    whole = make_ongoing(make_account(name=f"{tag} whole"), "25.00", "15.00")
    pay.apply_wallet(wallet=wallet(whole.account, "100.00"), invoice=whole, actor=actor)
    two = make_ongoing(make_account(name=f"{tag} two"), "10.00", "20.00", "30.00")
    pay.apply_wallet(wallet=wallet(two.account, "25.00", "First"), invoice=two, actor=actor)
    pay.apply_wallet(wallet=wallet(two.account, "100.00", "Second"), invoice=two, actor=actor)
    erp = make_ongoing(make_account(name=f"{tag} erp", erp_managed=True), "40.00")
    described = make_ongoing(make_account(name=f"{tag} desc"), "9.99")
    ledger.update_invoice(invoice=described, actor=actor, description="Metered API calls")
    return [plain, part, whole, two, erp, described]


def norm(text):
    return re.sub(r"invoice #\d+", "invoice #", NUMBER.sub(r"\1-#", str(text)))


def picture(invoice) -> dict:
    """Everything issuing wrote for ``invoice`` and its account, ids and clocks left out."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    account = invoice.account_id
    keep_payload = ("status", "total", "amount_paid", "amount_credited", "amount_due", "due_date")

    def payload(p):
        out = {}
        for name, obj in p.items():
            if obj is None:
                out[name] = None
                continue
            fields = {k: obj.get(k) for k in (*keep_payload, "amount", "reason") if k in obj}
            if "lines" in obj:
                fields["lines"] = [(ln["amount"], ln["prepaid_amount"]) for ln in obj["lines"]]
            out[name] = fields
        return out

    return {
        "invoice": (
            invoice.status, invoice.total, invoice.amount_credited, invoice.amount_paid,
            invoice.due_date, invoice.issue_date, invoice.description,
        ),
        "lines": [
            (ln.position, ln.amount, ln.prepaid_amount)
            for ln in invoice.lines.order_by("position")
        ],
        "entries": [
            (e.seq, e.kind, e.debit, e.credit, e.balance_after, norm(e.reference),
             norm(e.description), e.method, e.source_type_id is not None)
            for e in LedgerEntry.objects.filter(account_id=account).order_by("seq")
        ],
        "memos": [
            (norm(m.number), m.amount, m.reason, m.status, m.invoice_line.position, m.wallet.name)
            for m in CreditMemo.objects.filter(invoice=invoice).order_by("id")
        ],
        "wallet": [
            (t.wallet.name, t.seq, t.kind, t.amount, t.total_after, t.consumed_after,
             t.held_after, norm(t.reference), norm(t.description), t.hold_id is not None)
            for t in WalletTransaction.objects.filter(account_id=account).order_by(
                "wallet_id", "seq"
            )
        ],
        "holds": sorted(Hold.objects.filter(invoice=invoice).values_list("status", "amount")),
        "payments": [
            (p.type, p.method, p.status, p.amount, p.due_date, p.direction)
            for p in Payment.objects.filter(invoice=invoice).order_by("id")
        ],
        "transitions": [
            (t.name, t.source, t.target, t.reason)
            for t in PaymentTransition.objects.filter(payment__invoice=invoice).order_by("id")
        ],
        "changes": [
            (c.action, {k: norm(v) for k, v in c.changes.items()})
            for c in InvoiceChange.objects.filter(invoice=invoice, action="post").order_by("id")
        ],
        "events": [
            (e.seq, e.type, payload(e.payload))
            for e in Event.objects.filter(account_id=account).order_by("seq")
        ],
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_batch_writes_what_issue_invoice_writes(make_account, make_ongoing, actor):
    by_service = world(make_account, make_ongoing, actor, "service")
    by_batch = world(make_account, make_ongoing, actor, "batch")
    for invoice in by_service:
        pay.issue_invoice(invoice=invoice, actor=actor)
    run = runs.start_run(actor=actor)
    runs.BillingRunItem.objects.filter(run=run, invoice__in=by_service).delete()
    assert runs.work_batch(run, batch=50) == len(by_batch)
    counts = run_counts(run)
    assert (counts.issued, counts.failed) == (6, 0)
    for service, batch in zip(by_service, by_batch, strict=True):
        assert picture(batch) == picture(service), service
    assert Invoice.objects.get(pk=by_batch[2].pk).status == "paid"
    assert Invoice.objects.get(pk=by_batch[3].pk).amount_credited.amount == D("60.00")
    verify()


@pytest.mark.django_db(transaction=True)
def test_the_batch_leaves_an_account_in_credit_to_the_service(make_account, make_ongoing, actor):
    """Credit to apply at issue: the service's path (``issue_invoice``) issues it."""
    account = make_account()
    pay.record_payment(account=account, amount="30.00", method="cash", actor=actor)
    invoice = make_ongoing(account, "100.00")
    with transaction.atomic():
        locked = {account.pk: ledger.lock_account(account.pk)}
        issued, left = runs.issue_batch([invoice.pk], locked, actor)
    assert left == [invoice.pk] and not issued
    run = runs.close_period(actor=actor)
    assert run_counts(run).issued == 1
    assert Invoice.objects.get(pk=invoice.pk).amount_paid.amount == D("30.00")
    verify()
