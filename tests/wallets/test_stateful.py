"""Stateful property test of one wallet (SPEC section 6, DESIGN "Habits").

A hypothesis ``RuleBasedStateMachine`` runs random sequences of top-ups (through a
completed ``top_up`` payment), grants, holds on fresh ongoing invoices, consumption
changes, captures (issue), releases (cancel), usage drawdowns, prepayments on issued
invoices and transfers to account credit, against a plain-Decimal model of the wallet
and of the account balance. After every step:

    available >= 0, total - consumed - held == available,
    the wallet row equals its last transaction's after-balances and the log's replay,
    the wallet and every hold equal the model, verify_ledger passes.

Refused operations (more than is available, an empty wallet) must change nothing.

Isolation: pytest-django wraps the test in one transaction; each hypothesis example
opens its own savepoint in the machine's ``__init__`` and rolls it back in
``teardown``, so examples never see each other's rows, on SQLite and PostgreSQL alike.
(``hypothesis.extra.django.TestCase`` does the same per ``@given`` example, but its
``setup_example`` hooks are not called for ``run_state_machine_as_test``.)
"""

from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger import services as ledger
from ledger.errors import InsufficientFunds, InvalidInput
from ledger.models import Account, Invoice
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets
from wallets.models import CreditMemo, Hold, TxKind, WalletTransaction

from .conftest import assert_wallet_consistent, snapshot

pytestmark = pytest.mark.django_db

ACTOR = ledger.system_actor("stateful")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

pence = st.integers(min_value=1, max_value=20_000).map(lambda n: Decimal(n) / 100)
big_pence = st.integers(min_value=1_000, max_value=60_000).map(lambda n: Decimal(n) / 100)
quantities = st.sampled_from(["0", "0.5", "1", "1.3333", "2", "3", "7.25", "12"])
prices = st.sampled_from(["9.99", "25.00", "40.00", "120.00", "333.33"])
index = st.integers(min_value=0, max_value=50)


def line_amount(quantity: str, price: str) -> Decimal:
    """What the ledger bills for a line (half-up to the penny), in plain Decimal."""
    return (Decimal(quantity) * Decimal(price)).quantize(CENT, rounding=ROUND_HALF_UP)


class WalletMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.account = ledger.create_account(
            name="Stateful member", email="stateful@example.test", currency="GBP", actor=ACTOR
        )
        self.wallet = wallets.create_wallet(account=self.account, name="Main", actor=ACTOR)
        # The model: wallet balances, each ongoing invoice's hold, the account balance.
        self.total = self.consumed = self.balance = ZERO
        self.ongoing = []  # dicts: invoice, line, price, quantity, hold (Decimal), cap
        self.issued = []  # invoice ids that may still have something due
        self.usage = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the model -----------------------------------------------------------------

    @property
    def held(self) -> Decimal:
        return sum((o["hold"] or ZERO for o in self.ongoing), ZERO)

    @property
    def available(self) -> Decimal:
        return self.total - self.consumed - self.held

    def follow(self, entry) -> None:
        """What ``update_ongoing_line`` does to a held invoice's hold."""
        if entry["hold"] is None:
            return
        invoice_total = line_amount(entry["quantity"], entry["price"])
        cap = invoice_total if entry["cap"] is None else min(invoice_total, entry["cap"])
        entry["hold"] = max(ZERO, min(cap, entry["hold"] + self.available))

    def refused(self, call, error=InsufficientFunds, match="is available"):
        before = snapshot()
        with pytest.raises(error, match=match):
            call()
        assert snapshot() == before

    # --- rules ----------------------------------------------------------------------

    @rule(amount=big_pence)
    def top_up(self, amount):
        payment = pay.request_wallet_top_up(wallet=self.wallet, amount=amount, actor=ACTOR)
        assert WalletTransaction.objects.filter(source_id=payment.pk).count() == 0
        pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=ACTOR)
        self.total += amount

    @rule(amount=pence)
    def grant(self, amount):
        wallets.top_up(wallet=self.wallet, amount=amount, actor=ACTOR, grant=True)
        self.total += amount

    @rule(price=prices, cap=st.one_of(st.none(), pence))
    def hold(self, price, cap):
        draft = ledger.create_invoice(
            account=self.account, actor=ACTOR, lines=[LineSpec("Usage", "1", price)]
        )
        invoice = ledger.open_invoice(invoice=draft, actor=ACTOR)
        entry = {
            "invoice": invoice.pk,
            "line": invoice.lines.get().pk,
            "price": price,
            "quantity": "1",
            "hold": None,
            "cap": cap,
        }
        self.ongoing.append(entry)
        apply = lambda: pay.apply_wallet(  # noqa: E731
            wallet=self.wallet, invoice=invoice, amount=cap, actor=ACTOR
        )
        if self.available <= 0:
            self.refused(apply)
            return
        hold = apply()
        entry["hold"] = ZERO
        self.follow(entry)
        assert hold.amount.amount == entry["hold"] > 0

    @precondition(lambda self: self.ongoing)
    @rule(i=index, quantity=quantities)
    def change(self, i, quantity):
        entry = self.ongoing[i % len(self.ongoing)]
        wallets.update_ongoing_line(line=entry["line"], quantity=quantity, actor=ACTOR)
        entry["quantity"] = quantity
        self.follow(entry)

    @precondition(lambda self: self.ongoing)
    @rule(i=index)
    def capture(self, i):
        entry = self.ongoing[i % len(self.ongoing)]
        invoice_total = line_amount(entry["quantity"], entry["price"])
        if invoice_total == 0:
            self.refused(
                lambda: pay.issue_invoice(invoice=entry["invoice"], actor=ACTOR),
                error=InvalidInput,
                match="nothing to charge",
            )
            return
        captured = entry["hold"] or ZERO
        credit = max(self.balance, ZERO)
        issued = pay.issue_invoice(invoice=entry["invoice"], actor=ACTOR)
        self.ongoing.remove(entry)
        self.consumed += captured
        self.balance += captured - invoice_total
        memos = CreditMemo.objects.filter(invoice=issued)
        assert sum((m.amount.amount for m in memos), ZERO) == captured
        assert issued.amount_credited.amount == captured
        assert issued.amount_paid.amount == min(credit, invoice_total - captured)
        if issued.amount_due.amount > 0:
            self.issued.append(issued.pk)
        if entry["hold"] is not None:
            assert Hold.objects.get(invoice=issued).status == "captured"

    @precondition(lambda self: self.ongoing)
    @rule(i=index)
    def release(self, i):
        entry = self.ongoing.pop(i % len(self.ongoing))
        cancelled = pay.cancel_invoice(invoice=entry["invoice"], actor=ACTOR)
        assert cancelled.status == "cancelled"
        assert not CreditMemo.objects.filter(invoice=cancelled).exists()
        if entry["hold"] is not None:
            assert Hold.objects.get(invoice=cancelled).status == "released"

    @rule(amount=pence)
    def drawdown(self, amount):
        self.usage += 1
        reference = f"usage-{self.usage}"
        call = lambda: wallets.usage_drawdown(  # noqa: E731
            wallet=self.wallet, amount=amount, reference=reference, actor=ACTOR
        )
        if amount > self.available:
            self.refused(call)
            return
        tx = call()
        assert tx.kind == TxKind.DRAWDOWN and tx.amount.amount == amount
        self.consumed += amount

    @precondition(lambda self: self.issued)
    @rule(i=index)
    def prepay(self, i):
        invoice = Invoice.objects.get(pk=self.issued[i % len(self.issued)])
        due = invoice.amount_due.amount
        call = lambda: pay.apply_wallet(wallet=self.wallet, invoice=invoice, actor=ACTOR)  # noqa: E731
        if self.available <= 0:
            self.refused(call)
            return
        memos = call()
        applied = min(due, self.available)
        assert sum((m.amount.amount for m in memos), ZERO) == applied
        self.consumed += applied
        self.balance += applied
        if applied == due:
            self.issued.remove(invoice.pk)

    @rule(amount=pence)
    def transfer(self, amount):
        call = lambda: wallets.transfer_to_credit(  # noqa: E731
            wallet=self.wallet, amount=amount, actor=ACTOR
        )
        if amount > self.available:
            self.refused(call)
            return
        call()
        self.consumed += amount
        self.balance += amount

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def wallet_matches_its_log_and_the_model(self):
        wallet = assert_wallet_consistent(self.wallet)  # available >= 0, row == last tx
        assert (wallet.total.amount, wallet.consumed.amount, wallet.held.amount) == (
            self.total,
            self.consumed,
            self.held,
        )
        assert wallet.available.amount == self.available >= 0
        for entry in self.ongoing:
            hold = Hold.objects.filter(invoice_id=entry["invoice"], status="active").first()
            assert (hold.amount.amount if hold else None) == entry["hold"]

    @invariant()
    def ledger_verifies(self):
        assert Account.objects.get(pk=self.account.pk).balance.amount == self.balance
        call_command("verify_ledger", account=[self.account.pk], stdout=StringIO())


def test_wallet_state_machine():
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
