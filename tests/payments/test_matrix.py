"""The payment state machine (SPEC section 5): every type x method x status.

Each allowed cell is reached through the real services; each forbidden one is
attempted through them and must raise a clear error (naming the payment, its status and
why) while changing nothing: no entry, no status, no transition-log row.

The SPEC tables are written out here literally (not imported from the code under test).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from moneyed import Money

from ledger.errors import InvalidInput, StateConflict
from payments import services as pay
from payments.gateways.sandbox import CARD_DECLINE, CARD_SUCCESS
from payments.models import Payment, PaymentTransition
from payments.services.common import create_payment

from .conftest import (
    after_commit,
    balance,
    entries_after,
    fresh,
    last_seq,
    past,
    snapshot,
    waiting_payment,
)

pytestmark = pytest.mark.django_db

TYPES = ["rendered_services", "order", "top_up"]
METHODS = ["bank_transfer", "cash", "cheque", "card", "direct_debit", "account_balance"]
STATUSES = [
    "pending_billing",
    "waiting_for_payment",
    "expired",
    "cancelled",
    "receipt_creating",
    "receipt_sent",
    "processing",
    "completed",
    "paid_from_balance",
]
EVERY = set(STATUSES)
# SPEC section 5, "Which status each type may reach".
TYPE_ALLOWS = {
    "rendered_services": EVERY,
    "order": EVERY - {"pending_billing", "expired"},
    "top_up": EVERY - {"pending_billing", "expired", "paid_from_balance"},
}
RECEIPT_METHODS = {"bank_transfer", "cash"}
GATEWAY_METHODS = {"card", "direct_debit"}


def method_allows(method: str, status: str) -> bool:
    """SPEC section 5, "by method". Statuses before the money arrives do not depend on
    the method the member chose; paying from the balance always uses account_balance
    (whatever method was chosen before); money marked as paid needs a real method."""
    if status in ("receipt_creating", "receipt_sent"):
        return method in RECEIPT_METHODS
    if status == "processing":
        return method in GATEWAY_METHODS
    if status == "completed":
        return method != "account_balance"
    return True


def allowed(type_, method, status) -> bool:
    return status in TYPE_ALLOWS[type_] and method_allows(method, status)


IBAN = "DE89 3704 0044 0532 0130 00"  # the sandbox confirms it three days later


def start_at_gateway(payment: Payment, method: str, actor, card: str = CARD_SUCCESS) -> Payment:
    """Send a waiting payment to the sandbox gateway, as the member's payment page (a
    card) or staff forcing a direct debit do; it is ``processing`` until the answer."""
    with after_commit():  # the gateway is called once the decision has committed
        if method == "card":
            return pay.start_card_payment(payment=payment, card_number=card, actor=actor)
        return pay.start_direct_debit(payment=payment, iban=IBAN, actor=actor)


def deliver_gateway_answers():
    """The sandbox gateway's queued webhooks, delivered now (fast-forward)."""
    call_command("deliver_sandbox_events", "--all")


def choose_method(payment: Payment, method: str) -> Payment:
    """The member picks how to pay (what the payment page or a gateway records).

    The method is a plain column, not the state: setting it moves no status."""
    Payment.objects.filter(pk=payment.pk).update(method=method)
    return fresh(payment)


@pytest.fixture
def new_payment(make_account, issue, actor):
    """A fresh payment of ``type_`` in its first status, with ``method`` chosen."""

    def make(type_, method, *, erp=False, due=None):
        account = make_account(erp_managed=erp)
        due = due or past(3)
        if type_ == "top_up":
            payment = create_payment(
                account=account,
                type="top_up",
                amount=Money(Decimal("75.00"), "GBP"),
                actor=actor,
                method=method,
                due_date=due,
            )
        else:
            invoice = issue(account, "75.00", prepaid=type_ == "order", due_date=due)
            payment = choose_method(waiting_payment(invoice), method)
        assert payment.type == type_
        return account, fresh(payment)

    return make


def assert_refused(exc_info, payment, why):
    message = str(exc_info.value)
    assert payment.number in message, message
    assert payment.status in message, message
    assert why in message, message


CELLS = [(t, m, s) for t in TYPES for m in METHODS for s in STATUSES]


@pytest.mark.parametrize(
    "type_, method, target",
    CELLS,
    ids=[f"{t}-{m}-{s}-{'ok' if allowed(t, m, s) else 'refused'}" for t, m, s in CELLS],
)
def test_matrix(new_payment, credit, actor, mailoutbox, send_receipt, type_, method, target):
    if allowed(type_, method, target):
        reach(new_payment, credit, actor, mailoutbox, send_receipt, type_, method, target)
    else:
        refuse(new_payment, credit, actor, type_, method, target)


def reach(new_payment, credit, actor, mailoutbox, send_receipt, type_, method, target):
    account, payment = new_payment(type_, method, erp=target == "pending_billing")
    seq = last_seq(account)
    start = payment.status
    if target == "pending_billing":
        assert start == "pending_billing"
        log = list(payment.transitions.values_list("name", "source", "target"))
        assert log == [("create", "", "pending_billing")]
        # Not payable until the ERP approves it; then it waits for payment.
        pay.approve_by_erp(payment=payment, actor=actor)
        assert fresh(payment).status == "waiting_for_payment"
        return
    assert start == "waiting_for_payment"
    if target == "waiting_for_payment":
        assert list(payment.transitions.values_list("target", flat=True)) == [start]
        return
    if target == "expired":
        count = pay.expire_due_payments(today=payment.due_date + timedelta(days=1))
        assert count == 1
    elif target == "cancelled":
        pay.cancel_payment(payment=payment, actor=actor, reason="matrix")
    elif target == "receipt_creating":
        pay.create_receipt(payment=payment, method=method, actor=actor)
        assert fresh(payment).receipt_number
    elif target == "receipt_sent":
        pay.create_receipt(payment=payment, method=method, actor=actor)
        send_receipt(payment=payment, actor=actor)
        assert len(mailoutbox) == 1
        start = "receipt_creating"
    elif target == "processing":
        start_at_gateway(payment, method, actor)
    elif target == "completed":
        pay.mark_payment_paid(payment=payment, method=method, actor=actor)
        ref = f"PAYM-{payment.number}" if type_ == "top_up" else f"INVC-{payment.invoice.number}"
        assert entries_after(account, seq) == [("PAYM", 0, Decimal("75.00"), ref, method)]
    elif target == "paid_from_balance":
        credit(account, "100.00")
        seq = last_seq(account)
        pay.pay_from_balance(payment=payment, actor=actor)
        ref = f"PAYM-{payment.number}"
        assert entries_after(account, seq) == [
            ("PAYM", 0, Decimal("75.00"), ref, "account_balance"),
            ("CRED", 0, Decimal("-75.00"), ref, ""),
        ]
        assert balance(account) == Decimal("25.00")
    done = fresh(payment)
    assert done.status == target
    if target == "paid_from_balance":
        assert done.method == "account_balance"
    elif target != "expired":
        assert done.method == method
    last = done.transitions.order_by("-at", "-id").first()
    assert (last.source, last.target) == (start, target)
    if target not in ("completed", "paid_from_balance"):
        assert entries_after(account, seq) == []  # no money moved


def refuse(new_payment, credit, actor, type_, method, target):
    erp = target == "pending_billing"
    account, payment = new_payment(type_, method, erp=erp)
    if target == "paid_from_balance":
        credit(account, "100.00")  # plenty of credit: only the rule refuses it
    before = snapshot()

    if target == "pending_billing":
        # Never reachable: the payment starts waiting even on an ERP-managed account, and
        # no transition of the machine leads back to pending billing.
        assert payment.status == "waiting_for_payment"
        targets = {t.target for t in Payment._meta.get_field("status").get_all_transitions(Payment)}
        assert "pending_billing" not in targets
        with pytest.raises(StateConflict) as refused:
            pay.approve_by_erp(payment=payment, actor=actor)
        assert_refused(refused, payment, "not possible from 'waiting_for_payment'")
    elif target == "expired":
        # The job passes it by even though it is past due; the machine refuses it too.
        assert pay.expire_due_payments(today=payment.due_date + timedelta(days=30)) == 0
        assert pay.refusal(payment, "expire") == "its type does not allow the status 'expired'"
    elif target == "paid_from_balance":
        with pytest.raises(StateConflict) as refused:
            pay.pay_from_balance(payment=payment, actor=actor)
        assert_refused(refused, payment, "its type does not allow the status 'paid_from_balance'")
    elif target in ("receipt_creating", "receipt_sent"):
        with pytest.raises(StateConflict) as refused:
            pay.create_receipt(payment=payment, method=method, actor=actor)
        assert_refused(refused, payment, "bank_transfer and cash payments go through receipts")
        with pytest.raises(StateConflict) as refused:
            pay.send_receipt(payment=payment, actor=actor)
        assert_refused(refused, payment, "not possible from 'waiting_for_payment'")
    elif target == "processing":
        # Neither gateway takes a payment whose member chose another method, and the
        # machine would not let it process anyway.
        label = payment.get_method_display()
        for start in ("card", "direct_debit"):
            with pytest.raises(InvalidInput, match=rf"payment {payment.number} is a {label} pay"):
                start_at_gateway(payment, start, actor)
        assert (
            pay.refusal(payment, "start_processing")
            == "only card, direct_debit payments are processed by a gateway"
        )
    elif target == "completed":
        with pytest.raises(InvalidInput, match=rf"method: {method} is not one of"):
            pay.mark_payment_paid(payment=payment, method=method, actor=actor)
    else:  # pragma: no cover - every forbidden cell is handled above
        raise AssertionError(f"unhandled forbidden cell {type_}/{method}/{target}")

    assert snapshot() == before
    assert fresh(payment).status == payment.status


def test_every_cell_of_the_matrix_is_covered():
    refused = [c for c in CELLS if not allowed(*c)]
    assert len(CELLS) == 162
    # The SPEC's explicit "never" cells are all among the refused ones.
    for method in METHODS:
        for cell in [
            ("top_up", method, "expired"),
            ("top_up", method, "paid_from_balance"),
            ("top_up", method, "pending_billing"),
            ("order", method, "pending_billing"),
            ("order", method, "expired"),
        ]:
            assert cell in refused
    for type_ in TYPES:
        for method in ("cheque", "card", "direct_debit"):
            assert (type_, method, "receipt_creating") in refused
            assert (type_, method, "receipt_sent") in refused
        for method in ("bank_transfer", "cash", "cheque"):
            assert (type_, method, "processing") in refused


# --- the database backs the matrix ----------------------------------------------------


@pytest.mark.parametrize(
    "type_, status, method",
    [
        ("top_up", "pending_billing", ""),
        ("order", "pending_billing", ""),
        ("top_up", "expired", ""),
        ("order", "expired", ""),
        ("top_up", "paid_from_balance", "account_balance"),
        ("rendered_services", "paid_from_balance", "card"),
        ("rendered_services", "receipt_creating", "cheque"),
        ("rendered_services", "receipt_sent", "card"),
        ("rendered_services", "processing", "bank_transfer"),
        ("order", "processing", "cash"),
    ],
)
def test_database_refuses_a_forbidden_row_written_directly(account, actor, type_, status, method):
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        create_payment(
            account=account,
            type=type_,
            amount=Money(Decimal("10.00"), "GBP"),
            actor=actor,
            status=status,
            method=method,
        )
    assert snapshot() == before


def test_status_cannot_be_assigned_directly(account, issue):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    with pytest.raises(AttributeError):
        payment.status = "completed"  # protected django-fsm field


# --- named refusals ---------------------------------------------------------------------


@pytest.fixture
def processing(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = start_at_gateway(waiting_payment(invoice), "card", actor)
    return fresh(payment)


STAFF_ACTIONS = {
    "mark_payment_paid": lambda p, a: pay.mark_payment_paid(payment=p, method="card", actor=a),
    "mark_invoice_paid": lambda p, a: pay.mark_invoice_paid(
        invoice=p.invoice, method="card", actor=a
    ),
    "cancel_payment": lambda p, a: pay.cancel_payment(payment=p, actor=a),
    "cancel_invoice": lambda p, a: pay.cancel_invoice(invoice=p.invoice, actor=a),
    "create_receipt": lambda p, a: pay.create_receipt(payment=p, actor=a),
    "send_receipt": lambda p, a: pay.send_receipt(payment=p, actor=a),
    "pay_from_balance": lambda p, a: pay.pay_from_balance(payment=p, actor=a),
    "approve_by_erp": lambda p, a: pay.approve_by_erp(payment=p, actor=a),
    "refund_payment": lambda p, a: pay.refund_payment(payment=p, actor=a),
    "record_dispute": lambda p, a: pay.record_dispute(payment=p, actor=a),
}


@pytest.mark.parametrize("action", sorted(STAFF_ACTIONS))
def test_every_staff_action_is_refused_while_processing(processing, account, credit, actor, action):
    credit(account, "200.00")  # so pay_from_balance is refused for the status alone
    before = snapshot()
    with pytest.raises(StateConflict) as refused:
        STAFF_ACTIONS[action](processing, actor)
    message = str(refused.value)
    assert processing.number in message and "processing" in message, message
    assert snapshot() == before


def test_the_expiry_job_passes_a_processing_payment_by(processing):
    before = snapshot()
    assert pay.expire_due_payments(today=past(-365)) == 0
    assert snapshot() == before
    assert pay.refusal(processing, "expire").startswith("a gateway is processing it")
    assert fresh(processing).status == "processing"


def test_processing_offers_no_staff_action(processing, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.test", "x")
    assert pay.available_transitions(processing, boss) == []
    # The gateway's own answers are the only way out.
    assert pay.refusal(processing, "complete_from_gateway") is None
    assert pay.refusal(processing, "fail_processing") is None


def test_gateway_decline_returns_to_waiting(account, issue, actor):
    payment = waiting_payment(issue(account, "75.00"))
    start_at_gateway(payment, "card", actor, card=CARD_DECLINE)
    assert fresh(payment).status == "processing"
    deliver_gateway_answers()
    assert fresh(payment).status == "waiting_for_payment"
    last = fresh(payment).transitions.order_by("-id").first()
    assert (last.name, last.source) == ("fail_processing", "processing")


def test_mark_paid_refused_while_pending_billing(erp_account, issue, actor):
    invoice = issue(erp_account, "75.00")
    payment = waiting_payment(invoice)
    before = snapshot()
    with pytest.raises(StateConflict) as refused:
        pay.mark_invoice_paid(invoice=invoice, method="cash", actor=actor)
    assert_refused(refused, payment, "the ERP has not approved the invoice yet")
    with pytest.raises(StateConflict) as refused:
        pay.mark_payment_paid(payment=payment, method="cash", actor=actor)
    assert_refused(refused, payment, "not possible from 'pending_billing'")
    for attempt in (
        lambda: pay.create_receipt(payment=payment, method="bank_transfer", actor=actor),
        lambda: start_at_gateway(payment, "card", actor),
        lambda: pay.pay_from_balance(payment=payment, actor=actor),
    ):
        with pytest.raises(StateConflict) as refused:
            attempt()
        assert_refused(refused, payment, "pending_billing")
    assert snapshot() == before


def test_send_receipt_refused_from_waiting(account, issue, actor, mailoutbox):
    invoice = issue(account, "75.00")
    payment = choose_method(waiting_payment(invoice), "bank_transfer")
    before = snapshot()
    with pytest.raises(StateConflict) as refused:
        pay.send_receipt(payment=payment, actor=actor)
    assert_refused(refused, payment, "cannot send the receipt")
    assert snapshot() == before
    assert mailoutbox == []


def test_create_receipt_refuses_a_method_other_than_the_chosen_one(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = choose_method(waiting_payment(invoice), "cash")
    before = snapshot()
    with pytest.raises(InvalidInput, match=rf"payment {payment.number} is a Cash payment"):
        pay.create_receipt(payment=payment, method="bank_transfer", actor=actor)
    assert snapshot() == before


@pytest.fixture
def in_status(make_account, issue, credit, actor):
    """A rendered_services payment brought to ``status`` through the services (to
    ``processing`` by card at the sandbox gateway, which will answer as ``card`` says
    once the test delivers its webhooks)."""

    def make(status, card=CARD_SUCCESS):
        account = make_account(erp_managed=status == "pending_billing")
        invoice = issue(account, "75.00", due_date=past(3))
        payment = waiting_payment(invoice)
        if status == "expired":
            pay.expire_due_payments()
        elif status == "cancelled":
            pay.cancel_payment(payment=payment, actor=actor)
        elif status in ("receipt_creating", "receipt_sent"):
            pay.create_receipt(payment=payment, method="bank_transfer", actor=actor)
            if status == "receipt_sent":
                pay.send_receipt(payment=payment, actor=actor)
        elif status == "processing":
            start_at_gateway(payment, "card", actor, card=card)
        elif status == "completed":
            pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=actor)
        elif status == "paid_from_balance":
            credit(account, "75.00")
            pay.pay_from_balance(payment=payment, actor=actor)
        payment = fresh(payment)
        assert payment.status == status
        return payment

    return make


NOT_COMPLETED = [s for s in STATUSES if s != "completed"]


@pytest.mark.parametrize("status", NOT_COMPLETED)
@pytest.mark.parametrize("action", ["refund_payment", "record_dispute"])
def test_refund_and_dispute_refused_unless_completed(in_status, actor, mailoutbox, status, action):
    payment = in_status(status)
    before = snapshot()
    with pytest.raises(StateConflict) as refused:
        getattr(pay, action)(payment=payment, actor=actor)
    assert_refused(refused, payment, "only completed incoming payments can be")
    assert snapshot() == before


# Which generic transitions SPEC section 5 allows from each status (the staff and
# gateway actions; the method is chosen so that only the status decides).
FROM = {
    "approve": {"pending_billing"},
    "expire": {"waiting_for_payment"},
    "cancel": {
        "pending_billing",
        "waiting_for_payment",
        "expired",
        "receipt_creating",
        "receipt_sent",
    },
    "create_receipt": {"waiting_for_payment"},
    "send_receipt": {"receipt_creating"},
    "start_processing": set(),  # the method (bank transfer) never allows it
    "fail_processing": {"processing"},
    "complete_from_gateway": {"processing"},
}


# The real entry point of each transition that a service runs on request; the expiry
# job and the gateway's answers (its webhooks) run the others.
SERVICES = {
    "approve": lambda p, a: pay.approve_by_erp(payment=p, actor=a),
    "cancel": lambda p, a: pay.cancel_payment(payment=p, actor=a),
    "create_receipt": lambda p, a: pay.create_receipt(payment=p, actor=a, method=p.method or None),
    "send_receipt": lambda p, a: pay.send_receipt(payment=p, actor=a),
    "complete_from_gateway": lambda p, a: pay.complete_gateway_payment(payment=p, actor=a),
}
GATEWAY_ANSWERS = {"fail_processing": CARD_DECLINE, "complete_from_gateway": CARD_SUCCESS}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", sorted(FROM))
def test_transition_from_each_status(in_status, actor, mailoutbox, status, name):
    payment = in_status(status, card=GATEWAY_ANSWERS.get(name, CARD_SUCCESS))
    if name == "create_receipt" and not payment.method:
        payment = choose_method(payment, "bank_transfer")
    if status in FROM[name]:
        assert pay.refusal(payment, name) is None
        if name in GATEWAY_ANSWERS:
            deliver_gateway_answers()
        elif name == "expire":
            assert pay.expire_due_payments(today=payment.due_date + timedelta(days=1)) == 1
        else:
            SERVICES[name](payment, actor)
        row = PaymentTransition.objects.filter(payment=payment).order_by("-id").first()
        assert (row.name, row.source) == (name, status)
        assert fresh(payment).status == row.target
        return
    assert pay.refusal(payment, name) is not None
    before = snapshot()
    if name in SERVICES:
        with pytest.raises(StateConflict) as refused:
            SERVICES[name](payment, actor)
        assert_refused(refused, payment, "cannot ")
    elif name == "expire":
        assert pay.expire_due_payments(today=payment.due_date + timedelta(days=30)) == 0
    # start_processing and fail_processing have no entry point but a gateway's: a
    # payment can only be sent to it by its own start (tested above) and answered by it.
    assert snapshot() == before


@pytest.mark.parametrize("settle", ["mark_paid", "pay_from_balance", "complete_from_gateway"])
def test_every_way_to_settle_posts_the_money(account, issue, credit, actor, settle):
    invoice = issue(account, "75.00")
    credit(account, "100.00")
    payment = waiting_payment(invoice)
    seq = last_seq(account)
    if settle == "mark_paid":
        pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=actor)
    elif settle == "pay_from_balance":
        pay.pay_from_balance(payment=payment, actor=actor)
    else:
        start_at_gateway(payment, "card", actor)
        deliver_gateway_answers()
    assert entries_after(account, seq)[0][:3] == ("PAYM", 0, Decimal("75.00"))
    assert fresh(invoice).status == "paid"
    assert fresh(payment).status in ("completed", "paid_from_balance")
