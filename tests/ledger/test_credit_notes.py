"""Credit notes (SPEC section 3, issue 12 item 4): a refund of an invoice (whole or part)
and the cancellation of an issued invoice each issue one credit note — own gapless
series, referencing the invoice, carrying the credited lines and amounts, its total the
negative ``INVC`` entry it explains — and the refund payment is linked to it.

Before issue 12 a refund or a cancellation left ledger entries and no document at all.
"""

import pytest
from django.core.management import call_command
from django.db import transaction
from moneyed import Money

from ledger import services as ledger
from ledger.models import CreditNote, InvoiceCounter, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment, RefundCreditNote

pytestmark = pytest.mark.django_db


def gbp(value) -> Money:
    return Money(value, "GBP")


@pytest.fixture(autouse=True)
def verified_ledger():
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def issued(actor):
    def make(account, *amounts):
        lines = [LineSpec(f"Desk {i + 1}", "2", a) for i, a in enumerate(amounts or ("50.00",))]
        draft = ledger.create_invoice(account=account, actor=actor, lines=lines)
        return pay.issue_invoice(invoice=draft, actor=actor)

    return make


def paid(invoice, actor) -> Payment:
    return pay.mark_invoice_paid(invoice=invoice.pk, method="bank_transfer", actor=actor)


def negative_invc(account) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(account=account, kind="INVC", debit__lt=0).order_by("seq")
    )


def test_part_refund_issues_one_credit_note_for_the_refunded_amount(account, issued, actor):
    invoice = issued(account, "30.00", "20.00")  # 2 x 30 + 2 x 20 = 100.00
    paid(invoice, actor)

    [refund] = pay.refund_invoice(invoice=invoice.pk, amount="35.00", actor=actor, reason="late")

    [entry] = negative_invc(account)
    note = CreditNote.objects.get()
    assert note.entry == entry and note.invoice_id == invoice.pk
    assert note.total == -entry.debit == gbp("35.00")
    assert note.reason == "refund" and note.number == "CN-000001"
    assert note.figures["lines"] == [
        {
            "description": f"Refund of invoice {invoice.number} (part)",
            "quantity": "1",
            "unit_price": "35.00",
            "amount": "35.00",
        }
    ]
    assert note.figures["invoice"]["number"] == invoice.number
    assert note.figures["refund"] == refund.number and note.figures["note"] == "late"
    assert RefundCreditNote.objects.get(credit_note=note).refund == refund  # the FK


def test_whole_refund_repeats_the_invoice_lines(account, issued, actor):
    invoice = issued(account, "30.00", "20.00")
    payment = paid(invoice, actor)

    refund = pay.refund_payment(payment=payment.pk, actor=actor)

    [entry] = negative_invc(account)
    note = CreditNote.objects.get()
    assert note.entry == entry and note.total == -entry.debit == gbp("100.00")
    assert [
        (line["description"], line["quantity"], line["amount"]) for line in note.figures["lines"]
    ] == [
        ("Desk 1", "2", "60.00"),
        ("Desk 2", "2", "40.00"),
    ]
    assert sum(Money(line["amount"], "GBP") for line in note.figures["lines"]) == note.total
    assert [link.credit_note for link in refund.credit_note_links.all()] == [note]


def test_cancellation_of_an_issued_invoice_issues_a_credit_note(account, issued, actor):
    invoice = issued(account, "45.00")

    pay.cancel_invoice(invoice=invoice.pk, actor=actor, reason="raised in error")

    [entry] = negative_invc(account)
    note = CreditNote.objects.get()
    assert (note.reason, note.invoice_id, note.entry) == ("cancellation", invoice.pk, entry)
    assert note.total == -entry.debit == gbp("90.00")
    assert [line["description"] for line in note.figures["lines"]] == ["Desk 1"]
    assert note.figures["note"] == "raised in error" and note.figures["refund"] == ""
    assert not RefundCreditNote.objects.exists()


def test_cancelling_a_draft_issues_no_credit_note(account, actor):
    draft = ledger.create_invoice(account=account, actor=actor, lines=[LineSpec("x", "1", "5")])
    pay.cancel_invoice(invoice=draft.pk, actor=actor)
    assert not CreditNote.objects.exists()


def test_a_dispute_is_not_a_credit_note(account, issued, actor):
    invoice = issued(account)
    payment = paid(invoice, actor)
    pay.record_dispute(payment=payment.pk, actor=actor)
    assert not CreditNote.objects.exists()


def test_a_refund_over_two_invoices_gives_one_note_per_invoice(account, issued, actor):
    first, second = issued(account, "10.00"), issued(account, "15.00")
    money = pay.record_payment(account=account, amount="50.00", method="cash", actor=actor)
    pay.assign_payment(
        payment=money.pk,
        allocations=[(first.pk, "20.00"), (second.pk, "30.00")],
        actor=actor,
    )

    refund = pay.refund_payment(payment=money.pk, actor=actor)

    notes = list(CreditNote.objects.order_by("seq_no"))
    assert [n.number for n in notes] == ["CN-000001", "CN-000002"]
    assert {n.invoice_id: n.total for n in notes} == {
        first.pk: gbp("20.00"),
        second.pk: gbp("30.00"),
    }
    assert {n.entry_id for n in notes} == {e.pk for e in negative_invc(account)}
    assert {link.credit_note_id for link in refund.credit_note_links.all()} == {n.pk for n in notes}


def test_every_negative_invc_has_exactly_one_credit_note(make_account, issued, actor):
    """Across refunds, part refunds and cancellations on several accounts."""
    a, b = make_account(), make_account()
    p1 = paid(issued(a, "40.00"), actor)
    pay.refund_payment(payment=p1.pk, amount="10.00", actor=actor)
    pay.refund_payment(payment=p1.pk, amount="70.00", actor=actor)
    pay.cancel_invoice(invoice=issued(b, "12.50").pk, actor=actor)
    pay.refund_invoice(invoice=paid(issued(b, "8.00"), actor).invoice_id, actor=actor)

    entries = LedgerEntry.objects.filter(kind="INVC", debit__lt=0)
    assert entries.count() == CreditNote.objects.count() == 4
    for entry in entries:
        assert entry.credit_note.total == -entry.debit
    numbers = sorted(CreditNote.objects.values_list("seq_no", flat=True))
    assert numbers == [1, 2, 3, 4]  # one series for every account, no gap
    assert InvoiceCounter.objects.get(series="credit-note").last_value == 4


def test_a_rolled_back_refund_gives_its_number_back(account, issued, actor):
    payment = paid(issued(account, "40.00"), actor)

    with pytest.raises(RuntimeError), transaction.atomic():
        pay.refund_payment(payment=payment.pk, amount="10.00", actor=actor)
        assert CreditNote.objects.get().number == "CN-000001"
        raise RuntimeError("the caller's transaction fails after the refund")

    assert not CreditNote.objects.exists()
    pay.refund_payment(payment=payment.pk, amount="10.00", actor=actor)
    assert CreditNote.objects.get().number == "CN-000001"


def test_credit_note_series_is_not_an_invoice_series(account, actor):
    """An invoice series named like the notes' prefix does not share their counter."""
    draft = ledger.create_invoice(
        account=account, actor=actor, series="CN", lines=[LineSpec("x", "1", "5.00")]
    )
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    assert invoice.number == "CN-000001"
    pay.cancel_invoice(invoice=invoice.pk, actor=actor)
    assert CreditNote.objects.get().number == "CN-000001"  # its own counter
    assert InvoiceCounter.objects.get(series="CN").last_value == 1


def test_credit_notes_are_documents_never_edited(account, issued, actor):
    pay.cancel_invoice(invoice=issued(account).pk, actor=actor)
    note = CreditNote.objects.get()
    note.figures = {"total": "0"}
    with pytest.raises(TypeError, match="documents"):
        note.save()
    with pytest.raises(TypeError, match="documents"):
        note.delete()
    with pytest.raises(TypeError, match="append-only"):
        CreditNote.objects.update(figures={})
    assert CreditNote.objects.get().figures["total"] == "100.00"
