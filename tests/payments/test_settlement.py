"""Money arriving (SPEC sections 3-5): credit applied at issue, mark as paid on the
invoice or its payment, part and over payments, credit payments assigned later, paying
from the balance. Each test asserts exactly which entries were posted."""

from decimal import Decimal

import pytest

from ledger.errors import InvalidInput, StateConflict
from ledger.models import LedgerEntry
from payments import services as pay
from payments.models import Payment, PaymentAllocation, PaymentTransition

from .conftest import balance, entries_after, fresh, gbp, last_seq, snapshot, waiting_payment

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0")


# --- credit applied at issue (SPEC section 3 worked example) -----------------------


def test_worked_example_balance_50_invoice_75(account, issue, credit):
    top_up = credit(account, "50.00")
    assert top_up.status == "completed" and top_up.method == "bank_transfer"
    assert balance(account) == D("50.00")
    seq = last_seq(account)

    invoice = issue(account, "75.00")

    from_balance = Payment.objects.get(invoice=invoice, status="paid_from_balance")
    ref = f"PAYM-{from_balance.number}"
    assert entries_after(account, seq) == [
        ("INVC", D("75.00"), ZERO, f"INVC-{invoice.number}", ""),
        ("PAYM", ZERO, D("50.00"), ref, "account_balance"),
        ("CRED", ZERO, D("-50.00"), ref, ""),
    ]
    assert balance(account) == D("-25.00")
    assert invoice.status == "partially_paid"
    assert invoice.amount_due == gbp("25.00")
    assert invoice.amount_paid == gbp("50.00")
    assert from_balance.method == "account_balance"
    assert from_balance.amount == gbp("50.00")
    assert from_balance.type == "rendered_services"
    waiting = waiting_payment(invoice)
    assert waiting.type == "rendered_services"
    assert waiting.status == "waiting_for_payment"
    assert waiting.amount == gbp("25.00")
    assert waiting.due_date == invoice.due_date
    # Running balances on each row.
    rows = LedgerEntry.objects.filter(account=account, seq__gt=seq).order_by("seq")
    assert [r.balance_after.amount for r in rows] == [D("-25.00"), D("25.00"), D("-25.00")]


@pytest.mark.parametrize(
    "credit_amount, status, after, paid_from_balance",
    [
        ("100.00", "paid", "25.00", "75.00"),  # more credit than the invoice
        ("75.00", "paid", "0.00", "75.00"),  # exactly the invoice
        ("50.00", "partially_paid", "-25.00", "50.00"),  # less (the worked example)
    ],
)
def test_credit_applied_at_issue(
    account, issue, credit, credit_amount, status, after, paid_from_balance
):
    credit(account, credit_amount)
    seq = last_seq(account)
    invoice = issue(account, "75.00")
    used = D(paid_from_balance)
    payment = Payment.objects.get(invoice=invoice, status="paid_from_balance")
    assert entries_after(account, seq) == [
        ("INVC", D("75.00"), ZERO, f"INVC-{invoice.number}", ""),
        ("PAYM", ZERO, used, f"PAYM-{payment.number}", "account_balance"),
        ("CRED", ZERO, -used, f"PAYM-{payment.number}", ""),
    ]
    assert invoice.status == status
    assert balance(account) == D(after)
    assert invoice.amount_due == gbp("75.00") - gbp(paid_from_balance)
    if status == "paid":
        assert waiting_payment(invoice) is None
        assert not invoice.payments.exclude(pk=payment.pk).exists()
    else:
        assert waiting_payment(invoice).amount == invoice.amount_due


def test_zero_credit_posts_only_the_invoice(account, issue):
    invoice = issue(account, "75.00")
    assert entries_after(account, 0) == [("INVC", D("75.00"), ZERO, f"INVC-{invoice.number}", "")]
    assert not Payment.objects.filter(status="paid_from_balance").exists()
    assert invoice.status == "due"
    assert balance(account) == D("-75.00")
    waiting = waiting_payment(invoice)
    assert (waiting.type, waiting.status, waiting.amount) == (
        "rendered_services",
        "waiting_for_payment",
        gbp("75.00"),
    )
    log = list(waiting.transitions.values_list("name", "source", "target"))
    assert log == [("create", "", "waiting_for_payment")]


def test_debt_is_not_credit(account, issue):
    """A negative balance applies nothing to the next invoice."""
    issue(account, "30.00")
    invoice = issue(account, "75.00")
    assert invoice.status == "due"
    assert not Payment.objects.filter(status="paid_from_balance").exists()
    assert balance(account) == D("-105.00")


def test_erp_managed_account_waiting_payment_is_pending_billing(erp_account, issue, actor):
    invoice = issue(erp_account, "75.00")
    payment = waiting_payment(invoice)
    assert payment.status == "pending_billing"
    assert payment.type == "rendered_services"
    pay.approve_by_erp(payment=payment, actor=actor)
    assert fresh(payment).status == "waiting_for_payment"
    assert list(payment.transitions.values_list("name", "source", "target")) == [
        ("create", "", "pending_billing"),
        ("approve", "pending_billing", "waiting_for_payment"),
    ]


def test_prepaid_order_opens_an_order_payment(account, erp_account, issue):
    for acc in (account, erp_account):  # an ERP never holds orders in pending billing
        invoice = issue(acc, "40.00", prepaid=True)
        payment = waiting_payment(invoice)
        assert (payment.type, payment.status, payment.amount) == (
            "order",
            "waiting_for_payment",
            gbp("40.00"),
        )


def test_prepaid_order_paid_from_credit_is_an_order_payment(account, issue, credit):
    credit(account, "100.00")
    invoice = issue(account, "40.00", prepaid=True)
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.type, payment.status, payment.method) == (
        "order",
        "paid_from_balance",
        "account_balance",
    )
    assert invoice.status == "paid"


# --- mark as paid ----------------------------------------------------------------------


def test_mark_invoice_paid_posts_paym_referenced_by_the_invoice(account, issue, staff, staff_user):
    invoice = issue(account, "75.00")
    waiting = waiting_payment(invoice)
    seq = last_seq(account)

    payment = pay.mark_invoice_paid(
        invoice=invoice, method="cheque", actor=staff, reference="CHQ 0042", note="by post"
    )

    assert payment.pk == waiting.pk  # the waiting payment is the one completed
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("75.00"), f"INVC-{invoice.number}", "cheque")
    ]
    entry = LedgerEntry.objects.get(account=account, seq=seq + 1)
    assert entry.actor_id == staff_user.pk and entry.invoice_id == invoice.pk
    assert entry.source == payment
    assert fresh(invoice).status == "paid"
    assert fresh(invoice).amount_due == gbp("0")
    payment = fresh(payment)
    assert (payment.status, payment.method, payment.reference, payment.note) == (
        "completed",
        "cheque",
        "CHQ 0042",
        "by post",
    )
    assert payment.completed_at is not None
    row = PaymentTransition.objects.get(payment=payment, name="mark_paid")
    assert (row.source, row.target, row.actor_id, row.actor_label, row.reason) == (
        "waiting_for_payment",
        "completed",
        staff_user.pk,
        "finance",
        "by post",
    )
    assert balance(account) == D("0.00")
    assert waiting_payment(invoice) is None


def test_part_payment_leaves_partially_paid_and_a_waiting_payment_for_the_rest(
    account, issue, actor
):
    invoice = issue(account, "75.00")
    seq = last_seq(account)
    first = pay.mark_invoice_paid(invoice=invoice, method="cash", amount="30.00", actor=actor)
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("30.00"), f"INVC-{invoice.number}", "cash")
    ]
    invoice = fresh(invoice)
    assert invoice.status == "partially_paid"
    assert invoice.amount_due == gbp("45.00")
    assert fresh(first).amount == gbp("30.00") and fresh(first).status == "completed"
    rest = waiting_payment(invoice)
    assert rest.pk != first.pk
    assert (rest.status, rest.amount, rest.type) == (
        "waiting_for_payment",
        gbp("45.00"),
        "rendered_services",
    )
    # The rest paid: the invoice is paid.
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    assert fresh(invoice).status == "paid"
    assert balance(account) == D("0.00")


def test_overpayment_pays_the_invoice_and_the_surplus_stays_as_credit(account, issue, actor):
    invoice = issue(account, "75.00")
    seq = last_seq(account)
    payment = pay.mark_invoice_paid(
        invoice=invoice, method="bank_transfer", amount="100", actor=actor
    )
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("100.00"), f"INVC-{invoice.number}", "bank_transfer")
    ]
    assert fresh(invoice).status == "paid"
    assert balance(account) == D("25.00")
    payment = fresh(payment)
    assert payment.amount == gbp("100.00")
    assert payment.amount_allocated == gbp("75.00")
    assert waiting_payment(invoice) is None
    # The surplus pays the next invoice automatically.
    nxt = issue(account, "20.00")
    assert nxt.status == "paid"
    assert balance(account) == D("5.00")


def test_mark_payment_paid_on_the_waiting_payment(account, issue, staff, staff_user):
    invoice = issue(account, "75.00")
    waiting = waiting_payment(invoice)
    seq = last_seq(account)
    done = pay.mark_payment_paid(payment=waiting, method="direct_debit", actor=staff)
    assert done.status == "completed" and done.method == "direct_debit"
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("75.00"), f"INVC-{invoice.number}", "direct_debit")
    ]
    assert fresh(invoice).status == "paid"
    row = done.transitions.get(name="mark_paid")
    assert row.actor_id == staff_user.pk


def test_mark_paid_refuses_a_bad_method_and_changes_nothing(account, issue, actor):
    invoice = issue(account, "75.00")
    before = snapshot()
    for method in ("account_balance", "bitcoin", ""):
        with pytest.raises(InvalidInput, match="method: .* is not one of"):
            pay.mark_invoice_paid(invoice=invoice, method=method, actor=actor)
        with pytest.raises(InvalidInput, match="method: .* is not one of"):
            pay.mark_payment_paid(payment=waiting_payment(invoice), method=method, actor=actor)
    assert snapshot() == before


def test_mark_paid_refuses_a_paid_invoice_and_changes_nothing(account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    before = snapshot()
    with pytest.raises(StateConflict, match=rf"Invoice {invoice.number} is paid: nothing is due"):
        pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    assert snapshot() == before


def test_mark_paid_refuses_zero_or_negative_amounts(account, issue, actor):
    invoice = issue(account, "75.00")
    before = snapshot()
    for amount in ("0", "-5.00"):
        with pytest.raises(InvalidInput, match="amount"):
            pay.mark_invoice_paid(invoice=invoice, method="cash", amount=amount, actor=actor)
    with pytest.raises(InvalidInput, match="decimal places"):
        pay.mark_invoice_paid(invoice=invoice, method="cash", amount="1.005", actor=actor)
    assert snapshot() == before


def test_part_payment_on_an_approved_erp_invoice_rest_stays_payable(erp_account, issue, actor):
    invoice = issue(erp_account, "75.00")
    pay.approve_by_erp(payment=waiting_payment(invoice), actor=actor)
    pay.mark_invoice_paid(invoice=invoice, method="cash", amount="30.00", actor=actor)
    rest = waiting_payment(invoice)
    assert rest.status == "waiting_for_payment"
    pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    assert fresh(invoice).status == "paid"


# --- credit recorded without an invoice, assigned later -------------------------------


@pytest.mark.parametrize("amount", ["0", "0.00", "-10.00"])
def test_record_payment_refuses_a_non_positive_amount(account, actor, amount):
    before = snapshot()
    with pytest.raises(InvalidInput, match="amount"):
        pay.record_payment(account=account, amount=amount, method="cash", actor=actor)
    assert snapshot() == before


def test_record_payment_without_invoice_is_account_credit(account, actor):
    payment = pay.record_payment(
        account=account, amount="60.00", method="bank_transfer", reference="BACS 1", actor=actor
    )
    assert (payment.type, payment.status, payment.invoice_id) == ("top_up", "completed", None)
    assert entries_after(account, 0) == [
        ("PAYM", ZERO, D("60.00"), f"PAYM-{payment.number}", "bank_transfer")
    ]
    assert balance(account) == D("60.00")
    assert payment.unallocated == gbp("60.00")


def test_assign_payment_to_chosen_invoices_posts_nothing(account, issue, credit, actor):
    first = issue(account, "75.00")
    second = issue(account, "40.00")
    third = issue(account, "10.00")
    payment = credit(account, "100.00")
    first_waiting, second_waiting = waiting_payment(first), waiting_payment(second)
    seq = last_seq(account)

    made = pay.assign_payment(
        payment=payment, allocations=[(first, None), (second, "25.00")], actor=actor
    )

    assert entries_after(account, seq) == []  # the money is already on the ledger
    assert [(a.invoice_id, a.amount) for a in made] == [
        (first.pk, gbp("75.00")),
        (second.pk, gbp("25.00")),
    ]
    assert fresh(first).status == "paid"
    assert fresh(first_waiting).status == "cancelled"
    assert fresh(second).status == "partially_paid"
    assert fresh(second).amount_due == gbp("15.00")
    assert fresh(second_waiting).status == "waiting_for_payment"
    assert fresh(second_waiting).amount == gbp("15.00")
    assert fresh(third).status == "due"
    assert fresh(payment).amount_allocated == gbp("100.00")
    assert balance(account) == D("-25.00")
    assert PaymentTransition.objects.filter(
        payment=first_waiting, name="cancel", target="cancelled"
    ).exists()


def test_assign_refused_beyond_the_unallocated_amount(account, issue, credit, actor):
    invoice = issue(account, "75.00")
    payment = credit(account, "20.00")
    before = snapshot()
    with pytest.raises(InvalidInput, match=rf"more than the £20\.00 of payment {payment.number}"):
        pay.assign_payment(payment=payment, allocations=[(invoice, "30.00")], actor=actor)
    with pytest.raises(InvalidInput, match=r"at most the £75\.00 due"):
        pay.assign_payment(payment=payment, allocations=[(invoice, "80.00")], actor=actor)
    assert snapshot() == before


def test_assign_refused_beyond_free_credit(account, issue, credit, actor):
    """Credit already applied at issue cannot be assigned a second time."""
    top_up = credit(account, "50.00")
    invoice = issue(account, "75.00")  # the 50.00 credit pays part of it
    assert fresh(top_up).unallocated == gbp("50.00")
    before = snapshot()
    with pytest.raises(StateConflict, match=r"free credit is £0\.00;"):
        pay.assign_payment(payment=top_up, allocations=[(invoice, "25.00")], actor=actor)
    assert snapshot() == before


def test_assign_refused_for_a_payment_that_is_not_completed(account, issue, actor):
    invoice = issue(account, "75.00")
    other = issue(account, "10.00")
    before = snapshot()
    waiting = waiting_payment(invoice)
    with pytest.raises(StateConflict, match=rf"Payment {waiting.number} .* waiting_for_payment"):
        pay.assign_payment(payment=waiting, allocations=[(other, None)], actor=actor)
    assert snapshot() == before


def test_assign_refused_for_another_accounts_invoice(make_account, issue, credit, actor):
    mine, theirs = make_account(), make_account()
    payment = credit(mine, "50.00")
    invoice = issue(theirs, "20.00")
    before = snapshot()
    with pytest.raises(InvalidInput, match="on another account"):
        pay.assign_payment(payment=payment, allocations=[(invoice, None)], actor=actor)
    assert snapshot() == before
    assert not PaymentAllocation.objects.filter(payment=payment).exists()


# --- pay from balance -------------------------------------------------------------------


def test_pay_from_balance_settles_the_waiting_payment(account, issue, credit, staff):
    invoice = issue(account, "75.00")
    credit(account, "100.00")  # arrives after the invoice: not applied automatically
    waiting = waiting_payment(invoice)
    seq = last_seq(account)

    paid = pay.pay_from_balance(payment=waiting, actor=staff)

    assert (paid.pk, paid.status, paid.method) == (
        waiting.pk,
        "paid_from_balance",
        "account_balance",
    )
    assert entries_after(account, seq) == [
        ("PAYM", ZERO, D("75.00"), f"PAYM-{paid.number}", "account_balance"),
        ("CRED", ZERO, D("-75.00"), f"PAYM-{paid.number}", ""),
    ]
    assert fresh(invoice).status == "paid"
    assert balance(account) == D("25.00")
    row = paid.transitions.get(name="pay_from_balance")
    assert (row.source, row.target, row.actor_label) == (
        "waiting_for_payment",
        "paid_from_balance",
        "finance",
    )


def test_pay_from_balance_refused_without_enough_credit(account, issue, credit, actor):
    invoice = issue(account, "75.00")
    credit(account, "50.00")
    waiting = waiting_payment(invoice)
    before = snapshot()
    with pytest.raises(
        StateConflict,
        match=rf"Payment {waiting.number}: the account's credit \(£50\.00\) does not cover £75\.00",
    ):
        pay.pay_from_balance(payment=waiting, actor=actor)
    assert snapshot() == before


def test_refusal_messages_show_amounts_in_the_currency_precision(account, issue, credit, actor):
    invoice = issue(account, "75.00")
    payment = credit(account, "20.00")
    with pytest.raises(InvalidInput) as refused:
        pay.assign_payment(payment=payment, allocations=[(invoice, "30.00")], actor=actor)
    assert "the £20.00 of payment" in refused.value.detail
    assert "0000" not in refused.value.detail
