"""A payment recorded for an account group (SPEC section 2): oldest due first across
the member accounts, each account's share on its own ledger, the rest as credit."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger import services as ledger
from ledger.errors import CurrencyMismatch, InvalidInput, StateConflict
from payments import services as pay
from payments.models import Payment, PaymentAllocation

from .conftest import balance, entries_after, fresh, gbp, last_seq, snapshot, waiting_payment

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0")


@pytest.fixture
def group(actor):
    return ledger.create_group(name="Acme and co", actor=actor)


@pytest.fixture
def members(group, make_account):
    return [make_account(group=group, name=n) for n in ("Acme", "Bob", "Cleo")]


def day(n: int) -> date:
    return date.today() + timedelta(days=n)


def test_group_payment_oldest_due_first_across_accounts(group, members, issue, staff):
    acme, bob, cleo = members
    # Due dates interleave across accounts.
    acme_late = issue(acme, "50.00", due_date=day(20))
    bob_first = issue(bob, "30.00", due_date=day(1))
    cleo_second = issue(cleo, "40.00", due_date=day(5))
    acme_third = issue(acme, "20.00", due_date=day(10))
    seqs = {a.pk: last_seq(a) for a in members}

    batch = pay.record_group_payment(
        group=group,
        amount="110.00",
        method="bank_transfer",
        leftover_account=acme,
        reference="GRP-1",
        actor=staff,
    )

    # 30 (Bob) + 40 (Cleo) + 20 (Acme) fully, then 20 of Acme's latest invoice.
    assert fresh(bob_first).status == "paid"
    assert fresh(cleo_second).status == "paid"
    assert fresh(acme_third).status == "paid"
    late = fresh(acme_late)
    assert late.status == "partially_paid" and late.amount_due == gbp("30.00")
    assert waiting_payment(late).amount == gbp("30.00")
    for inv in (bob_first, cleo_second, acme_third):
        assert waiting_payment(inv) is None

    paid = {p.account_id: p for p in Payment.objects.filter(batch=batch)}
    assert set(paid) == {acme.pk, bob.pk, cleo.pk}
    assert batch.amount == gbp("110.00")
    assert sum((p.amount for p in paid.values()), gbp("0")) == gbp("110.00")
    for account, amount in ((acme, "40.00"), (bob, "30.00"), (cleo, "40.00")):
        payment = paid[account.pk]
        assert (payment.status, payment.method, payment.amount) == (
            "completed",
            "bank_transfer",
            gbp(amount),
        )
        # Each share is posted on its own account's ledger, nowhere else.
        assert entries_after(account, seqs[account.pk]) == [
            ("PAYM", ZERO, D(amount), f"PAYM-{payment.number}", "bank_transfer")
        ]
    allocations = {
        (a.invoice_id, a.amount.amount)
        for a in PaymentAllocation.objects.filter(payment__batch=batch)
    }
    assert allocations == {
        (bob_first.pk, D("30.00")),
        (cleo_second.pk, D("40.00")),
        (acme_third.pk, D("20.00")),
        (acme_late.pk, D("20.00")),
    }
    assert [balance(a) for a in members] == [D("-30.00"), D("0.00"), D("0.00")]


def test_group_payment_leftover_is_credit_on_the_chosen_account(group, members, issue, actor):
    acme, bob, cleo = members
    bob_inv = issue(bob, "30.00", due_date=day(1))
    cleo_inv = issue(cleo, "40.00", due_date=day(2))
    seq = last_seq(acme)

    batch = pay.record_group_payment(
        group=group, amount="100.00", method="cash", leftover_account=cleo, actor=actor
    )

    assert fresh(bob_inv).status == "paid" and fresh(cleo_inv).status == "paid"
    cleo_payment = Payment.objects.get(batch=batch, account=cleo)
    assert cleo_payment.amount == gbp("70.00")  # 40 for the invoice + 30 leftover
    assert cleo_payment.amount_allocated == gbp("40.00")
    assert balance(cleo) == D("30.00")
    assert balance(bob) == D("0.00")
    assert entries_after(acme, seq) == []  # Acme owed nothing and got nothing
    assert not Payment.objects.filter(batch=batch, account=acme).exists()
    # The credit pays Cleo's next invoice automatically.
    nxt = issue(cleo, "25.00")
    assert nxt.status == "paid"


def test_group_payment_with_nothing_open_is_all_credit(group, members, actor):
    acme = members[0]
    batch = pay.record_group_payment(
        group=group, amount="45.00", method="cheque", leftover_account=acme, actor=actor
    )
    payment = Payment.objects.get(batch=batch)
    assert (payment.account_id, payment.type, payment.amount) == (
        acme.pk,
        "top_up",
        gbp("45.00"),
    )
    assert balance(acme) == D("45.00")


def test_leftover_account_outside_the_group_is_refused(group, members, make_account, issue, actor):
    outsider = make_account()
    issue(members[0], "30.00")
    before = snapshot()
    with pytest.raises(InvalidInput, match="leftover_account: must be an account of the group"):
        pay.record_group_payment(
            group=group, amount="50.00", method="cash", leftover_account=outsider, actor=actor
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    "amount, method, match",
    [
        ("0", "cash", "amount"),
        ("-5.00", "cash", "amount"),
        ("10.005", "cash", "decimal places"),
        ("10.00", "account_balance", "method"),
    ],
)
def test_group_payment_bad_input_is_refused(group, members, issue, actor, amount, method, match):
    issue(members[0], "30.00")
    before = snapshot()
    with pytest.raises(InvalidInput, match=match):
        pay.record_group_payment(
            group=group, amount=amount, method=method, leftover_account=members[0], actor=actor
        )
    assert snapshot() == before


def test_group_of_mixed_currencies_is_refused(group, make_account, actor):
    gbp_member = make_account(group=group)
    make_account(currency="EUR", group=group)
    before = snapshot()
    with pytest.raises(CurrencyMismatch, match="EUR, GBP"):
        pay.record_group_payment(
            group=group, amount="10.00", method="cash", leftover_account=gbp_member, actor=actor
        )
    assert snapshot() == before


def test_group_payment_skips_an_erp_invoice_pending_billing(group, make_account, issue, actor):
    """An ERP invoice not yet approved is not payable (SPEC section 5): the group payment
    leaves it alone and the money stays as credit on the leftover account."""
    erp = make_account(group=group, erp_managed=True)
    invoice = issue(erp, "30.00")
    pending = waiting_payment(invoice)
    assert pending.status == "pending_billing"
    pay.record_group_payment(
        group=group, amount="30.00", method="cash", leftover_account=erp, actor=actor
    )
    assert fresh(invoice).status == "due"
    assert fresh(pending).status == "pending_billing"
    erp.refresh_from_db()
    assert erp.balance.amount == 0  # -30.00 invoice + 30.00 credit


def test_assign_refused_for_an_erp_invoice_pending_billing(make_account, issue, actor):
    erp = make_account(erp_managed=True)
    invoice = issue(erp, "30.00")
    credit = pay.record_payment(account=erp, amount="30.00", method="cash", actor=actor)
    with pytest.raises(StateConflict, match="not payable until the ERP approves"):
        pay.assign_payment(payment=credit, allocations=[(invoice, None)], actor=actor)
    assert fresh(invoice).status == "due"
