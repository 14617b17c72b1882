"""Credit note numbers under concurrent refunds (issue 12 item 4), PostgreSQL only: real
threads, each on its own connection, released together by a barrier; every thread closes
its connection. The series stays gapless — also when some of the refunds roll back —
and every negative ``INVC`` has its one credit note."""

import pytest
from django.core.management import call_command
from django.db import transaction

from ledger import services as ledger
from ledger.models import CreditNote, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay

from .test_payments_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class RolledBack(Exception):
    pass


def paid_invoice(account, actor):
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Desk", "1", "50.00")]
    )
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    pay.mark_invoice_paid(invoice=invoice.pk, method="bank_transfer", actor=actor)
    return invoice


def test_concurrent_refunds_number_their_credit_notes_without_gaps(make_account, actor):
    invoices = [paid_invoice(make_account(), actor) for _ in range(8)]

    def refund(invoice, *, fail=False):
        def run():
            with transaction.atomic():
                done = pay.refund_invoice(invoice=invoice.pk, amount="20.00", actor=actor)
                if fail:
                    raise RolledBack(invoice.number)
                return done

        return run

    calls = [refund(inv, fail=i % 4 == 3) for i, inv in enumerate(invoices)]
    # Two more refunds on the same invoices as two of the others: same account, queued.
    calls += [refund(invoices[0]), refund(invoices[1])]
    results = run_together(*calls)

    errors = [r for kind, r in results if kind == "error"]
    assert all(isinstance(e, RolledBack) for e in errors) and len(errors) == 2, results
    notes = list(CreditNote.objects.order_by("seq_no"))
    assert [n.seq_no for n in notes] == list(range(1, 9))  # 10 refunds, 2 rolled back
    assert [n.number for n in notes] == [f"CN-{i:06d}" for i in range(1, 9)]
    entries = LedgerEntry.objects.filter(kind="INVC", debit__lt=0)
    assert entries.count() == 8
    assert {(e.pk, -e.debit) for e in entries} == {(n.entry_id, n.total) for n in notes}
    call_command("verify_ledger", verbosity=0)
