"""Money going back (SPEC sections 3-5): refunds whole and part, refunds of account
credit, cancelling a due invoice, disputes and the payment that settles them again."""

from decimal import Decimal

import pytest

from ledger.errors import StateConflict
from payments import services as pay
from payments.models import Payment, PaymentAllocation

from .conftest import balance, entries_after, fresh, gbp, last_seq, snapshot, waiting_payment

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0")


@pytest.fixture
def paid_invoice(account, issue, actor):
    """A 75.00 invoice marked as paid by bank transfer: (invoice, its payment)."""
    invoice = issue(account, "75.00")
    payment = pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    return fresh(invoice), fresh(payment)


# --- refunds -----------------------------------------------------------------------------


def test_whole_refund_of_an_invoice_payment(account, paid_invoice, staff, staff_user):
    invoice, payment = paid_invoice
    seq = last_seq(account)

    refund = pay.refund_payment(payment=payment, actor=staff, reason="service not rendered")

    ref = f"PAYM-{refund.number}"
    assert entries_after(account, seq) == [
        ("INVC", D("-75.00"), ZERO, f"INVC-{invoice.number}", ""),
        ("PAYM", ZERO, D("-75.00"), ref, "bank_transfer"),
    ]
    assert (refund.direction, refund.status, refund.refund_of_id, refund.amount) == (
        "outgoing",
        "completed",
        payment.pk,
        gbp("75.00"),
    )
    assert refund.method == "bank_transfer" and refund.invoice_id == invoice.pk
    invoice = fresh(invoice)
    assert invoice.status == "refunded"
    assert (invoice.amount_paid, invoice.amount_refunded, invoice.amount_due) == (
        gbp("0"),
        gbp("75.00"),
        gbp("0"),
    )
    assert fresh(payment).amount_reversed == gbp("75.00")
    assert fresh(payment).status == "completed"  # the original stays what it was
    assert balance(account) == D("0.00")
    assert refund.transitions.get().actor_id == staff_user.pk
    assert waiting_payment(invoice) is None


def test_part_refund_keeps_the_invoice_paid_with_reduced_totals(account, paid_invoice, actor):
    invoice, payment = paid_invoice
    seq = last_seq(account)
    refund = pay.refund_payment(payment=payment, amount="25.00", actor=actor)
    assert entries_after(account, seq) == [
        ("INVC", D("-25.00"), ZERO, f"INVC-{invoice.number}", ""),
        ("PAYM", ZERO, D("-25.00"), f"PAYM-{refund.number}", "bank_transfer"),
    ]
    invoice = fresh(invoice)
    assert invoice.status == "paid"
    assert (invoice.amount_paid, invoice.amount_refunded, invoice.amount_due) == (
        gbp("50.00"),
        gbp("25.00"),
        gbp("0"),
    )
    assert fresh(payment).reversible == gbp("50.00")
    assert balance(account) == D("0.00")
    # A negative allocation links the refund to what it reversed.
    reversal = PaymentAllocation.objects.get(reversed_by=refund)
    assert reversal.amount == gbp("-25.00") and reversal.invoice_id == invoice.pk

    # The rest may be refunded later; then the invoice is refunded.
    pay.refund_payment(payment=payment, amount="50.00", actor=actor)
    assert fresh(invoice).status == "refunded"
    assert fresh(invoice).amount_refunded == gbp("75.00")


def test_refund_invoice_whole_and_part(account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", amount="30.00", actor=actor)
    pay.mark_invoice_paid(invoice=invoice, method="cheque", actor=actor)
    assert fresh(invoice).status == "paid"
    seq = last_seq(account)

    refunds = pay.refund_invoice(invoice=invoice, amount="50.00", actor=actor)

    # Newest payment first: the 45.00 cheque, then 5.00 of the cash.
    assert [(r.amount.amount, r.method) for r in refunds] == [
        (D("45.00"), "cheque"),
        (D("5.00"), "cash"),
    ]
    assert entries_after(account, seq) == [
        ("INVC", D("-45.00"), ZERO, f"INVC-{invoice.number}", ""),
        ("PAYM", ZERO, D("-45.00"), f"PAYM-{refunds[0].number}", "cheque"),
        ("INVC", D("-5.00"), ZERO, f"INVC-{invoice.number}", ""),
        ("PAYM", ZERO, D("-5.00"), f"PAYM-{refunds[1].number}", "cash"),
    ]
    assert fresh(invoice).status == "paid"
    pay.refund_invoice(invoice=invoice, actor=actor)  # the rest
    invoice = fresh(invoice)
    assert invoice.status == "refunded" and invoice.amount_refunded == gbp("75.00")
    assert balance(account) == D("0.00")


def test_refund_of_unallocated_credit_posts_paym_only(account, credit, actor):
    payment = credit(account, "60.00")
    seq = last_seq(account)
    refund = pay.refund_payment(payment=payment, amount="20.00", actor=actor)
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("-20.00"), f"PAYM-{refund.number}", "bank_transfer")
    ]
    assert refund.refund_of_id == payment.pk and refund.direction == "outgoing"
    assert refund.invoice_id is None
    assert balance(account) == D("40.00")


def test_refund_beyond_what_remains_is_refused(account, paid_invoice, actor):
    invoice, payment = paid_invoice
    pay.refund_payment(payment=payment, amount="60.00", actor=actor)
    before = snapshot()
    with pytest.raises(StateConflict) as refused:
        pay.refund_payment(payment=payment, amount="20.00", actor=actor)
    message = str(refused.value)
    assert payment.number in message and "cannot refund £20.00" in message
    assert "only £15.00 of £75.00 is left" in message
    with pytest.raises(StateConflict, match=r"cannot refund £20\.00; £15\.00 was paid"):
        pay.refund_invoice(invoice=invoice, amount="20.00", actor=actor)
    assert snapshot() == before

    pay.refund_payment(payment=payment, actor=actor)  # the 15.00 left
    before = snapshot()
    with pytest.raises(StateConflict, match=rf"{payment.number} was already fully refunded"):
        pay.refund_payment(payment=payment, amount="1.00", actor=actor)
    assert snapshot() == before


def test_refund_of_credit_already_used_is_refused(account, issue, credit, actor):
    payment = credit(account, "50.00")
    issue(account, "75.00")  # the credit pays part of it at issue
    before = snapshot()
    with pytest.raises(StateConflict, match="has been used since"):
        pay.refund_payment(payment=payment, actor=actor)
    assert snapshot() == before


def test_refund_invoice_paid_from_balance_is_refused(account, issue, credit, actor):
    credit(account, "100.00")
    invoice = issue(account, "75.00")
    assert invoice.status == "paid"
    before = snapshot()
    with pytest.raises(StateConflict, match="paid from the account balance"):
        pay.refund_invoice(invoice=invoice, actor=actor)
    assert snapshot() == before


def test_refund_of_a_refund_is_refused(account, paid_invoice, actor):
    _invoice, payment = paid_invoice
    refund = pay.refund_payment(payment=payment, amount="10.00", actor=actor)
    before = snapshot()
    with pytest.raises(StateConflict, match=rf"Payment {refund.number} is completed \(outgoing\)"):
        pay.refund_payment(payment=refund, actor=actor)
    assert snapshot() == before


# --- cancelling an invoice ------------------------------------------------------------


def test_cancel_due_invoice_posts_negative_invc_and_cancels_its_payment(
    account, issue, staff, staff_user
):
    invoice = issue(account, "75.00")
    waiting = waiting_payment(invoice)
    seq = last_seq(account)

    cancelled = pay.cancel_invoice(invoice=invoice, actor=staff, reason="raised in error")

    assert cancelled.status == "cancelled"
    assert entries_after(account, seq) == [
        ("INVC", D("-75.00"), ZERO, f"INVC-{invoice.number}", "")
    ]
    assert balance(account) == D("0.00")
    waiting = fresh(waiting)
    assert waiting.status == "cancelled"
    row = waiting.transitions.get(name="cancel")
    assert (row.source, row.actor_id, row.reason) == (
        "waiting_for_payment",
        staff_user.pk,
        "raised in error",
    )


def test_cancel_pending_billing_invoice_cancels_its_payment(erp_account, issue, actor):
    invoice = issue(erp_account, "75.00")
    waiting = waiting_payment(invoice)
    pay.cancel_invoice(invoice=invoice, actor=actor)
    assert fresh(waiting).status == "cancelled"
    assert balance(erp_account) == D("0.00")


@pytest.mark.parametrize("how", ["mark_paid_part", "credit_at_issue", "paid"])
def test_cancel_refused_once_anything_was_paid(account, issue, credit, actor, how):
    if how == "credit_at_issue":
        credit(account, "10.00")
    invoice = issue(account, "75.00")
    if how == "mark_paid_part":
        pay.mark_invoice_paid(invoice=invoice, method="cash", amount="5.00", actor=actor)
    elif how == "paid":
        pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    before = snapshot()
    with pytest.raises(StateConflict) as refused:
        pay.cancel_invoice(invoice=invoice, actor=actor)
    message = str(refused.value)
    assert invoice.number in message
    assert "paid" in message and "cancel" in message, message
    assert snapshot() == before


# --- disputes --------------------------------------------------------------------------


def test_dispute_reopens_the_invoice_and_a_later_payment_settles_it(
    account, paid_invoice, staff, actor
):
    invoice, payment = paid_invoice
    seq = last_seq(account)

    dispute = pay.record_dispute(payment=payment, actor=staff, reason="chargeback 123")

    assert (dispute.direction, dispute.status, dispute.dispute_of_id, dispute.amount) == (
        "outgoing",
        "completed",
        payment.pk,
        gbp("75.00"),
    )
    assert dispute.refund_of_id is None
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("-75.00"), f"PAYM-{dispute.number}", "bank_transfer")
    ]
    invoice = fresh(invoice)
    assert invoice.status == "disputed"
    assert invoice.amount_due == gbp("75.00")
    assert balance(account) == D("-75.00")  # owed again
    again = waiting_payment(invoice)
    assert (again.status, again.amount, again.type) == (
        "waiting_for_payment",
        gbp("75.00"),
        "rendered_services",
    )

    seq = last_seq(account)
    settled = pay.mark_invoice_paid(invoice=invoice, method="card", actor=actor)
    assert settled.pk == again.pk
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("75.00"), f"INVC-{invoice.number}", "card")
    ]
    assert fresh(invoice).status == "paid"
    assert balance(account) == D("0.00")


def test_part_dispute_keeps_the_invoice_disputed_until_settled(account, paid_invoice, actor):
    invoice, payment = paid_invoice
    pay.record_dispute(payment=payment, amount="30.00", actor=actor)
    invoice = fresh(invoice)
    assert invoice.status == "disputed"
    assert invoice.amount_due == gbp("30.00")
    assert waiting_payment(invoice).amount == gbp("30.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", amount="10.00", actor=actor)
    assert fresh(invoice).status == "disputed"
    assert waiting_payment(invoice).amount == gbp("20.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    assert fresh(invoice).status == "paid"


def test_dispute_on_erp_account_is_payable_at_once(erp_account, issue, actor):
    invoice = issue(erp_account, "75.00")
    pay.approve_by_erp(payment=waiting_payment(invoice), actor=actor)
    payment = pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    pay.record_dispute(payment=payment, actor=actor)
    assert waiting_payment(invoice).status == "waiting_for_payment"


def test_dispute_beyond_the_payment_is_refused(account, paid_invoice, actor):
    _invoice, payment = paid_invoice
    before = snapshot()
    with pytest.raises(StateConflict, match=rf"Payment {payment.number}: cannot dispute £80\.00"):
        pay.record_dispute(payment=payment, amount="80.00", actor=actor)
    assert snapshot() == before
    assert not Payment.objects.filter(dispute_of=payment).exists()


def test_refund_of_an_overpayment_returns_credit_first_then_the_invoice(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = pay.mark_invoice_paid(
        invoice=invoice, method="bank_transfer", amount="100.00", actor=actor
    )
    assert balance(account) == D("25.00")
    seq = last_seq(account)

    refund = pay.refund_payment(payment=payment, amount="40.00", actor=actor)

    ref = f"PAYM-{refund.number}"
    # 25.00 of unallocated credit goes back first (PAYM only), then 15.00 of the invoice.
    assert sorted(entries_after(account, seq)) == sorted(
        [
            ("INVC", D("-15.00"), ZERO, f"INVC-{invoice.number}", ""),
            ("PAYM", ZERO, D("-15.00"), ref, "bank_transfer"),
            ("PAYM", ZERO, D("-25.00"), ref, "bank_transfer"),
        ]
    )
    invoice = fresh(invoice)
    assert invoice.status == "paid"
    assert (invoice.amount_paid, invoice.amount_refunded) == (gbp("60.00"), gbp("15.00"))
    assert balance(account) == D("0.00")
