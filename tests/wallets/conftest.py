"""Fixtures and checks for the wallets suite (SPEC section 6).

Every test here runs on the database; after each one ``verify_ledger`` re-derives every
account balance from its entries. ``assert_wallet_consistent`` is the wallet's own
equivalent: the row's balances must be what its append-only transaction log replays to.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from moneyed import Money

from ledger import services as ledger
from ledger.models import Account, Invoice, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import CreditMemo, Hold, HoldStatus, TxKind, Wallet, WalletTransaction

ZERO = Decimal("0")


@pytest.fixture(autouse=True)
def verified_ledger(db):
    """After every test: every account's balance and running balances match its entries."""
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def make_wallet(actor):
    """A wallet on ``account``, optionally granted ``grant`` (a Decimal string)."""

    def make(account, name="Main", grant=None):
        wallet = wallets.create_wallet(account=account, name=name, actor=actor)
        if grant is not None:
            wallets.top_up(wallet=wallet, amount=grant, actor=actor, grant=True)
        return fresh(wallet)

    return make


@pytest.fixture
def ongoing(actor):
    """An ongoing invoice (opened, not issued) with one line per amount (quantity 1)."""

    def make(account, *amounts):
        lines = [LineSpec(f"Usage {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
        draft = ledger.create_invoice(account=account, actor=actor, lines=lines)
        return ledger.open_invoice(invoice=draft, actor=actor)

    return make


@pytest.fixture
def issued(actor):
    """An invoice issued through ``payments.services.issue_invoice`` (waiting payment)."""

    def make(account, *amounts):
        lines = [LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
        draft = ledger.create_invoice(account=account, actor=actor, lines=lines)
        return pay.issue_invoice(invoice=draft, actor=actor)

    return make


def gbp(value) -> Money:
    return Money(Decimal(value), "GBP")


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def balances(wallet) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(total, consumed, held, available) of the wallet as stored now."""
    w = fresh(wallet)
    return w.total.amount, w.consumed.amount, w.held.amount, w.available.amount


# Which balance each kind of transaction moves, by how much (in units of its amount).
MOVES = {
    TxKind.TOP_UP: (1, 0, 0),
    TxKind.GRANT: (1, 0, 0),
    TxKind.TOP_UP_REFUND: (-1, 0, 0),
    TxKind.DRAWDOWN: (0, 1, 0),
    TxKind.TRANSFER_TO_CREDIT: (0, 1, 0),
    TxKind.HOLD: (0, 0, 1),
    TxKind.HOLD_RELEASE: (0, 0, -1),
    TxKind.HOLD_CAPTURE: (0, 1, -1),
}


def replay(wallet_id: int) -> tuple[Decimal, Decimal, Decimal]:
    """Re-derive (total, consumed, held) from the wallet's transaction log, checking every
    transaction's after-balances against the running replay on the way."""
    total = consumed = held = ZERO
    rows = WalletTransaction.objects.filter(wallet_id=wallet_id).order_by("seq")
    for expected_seq, tx in enumerate(rows, start=1):
        assert tx.seq == expected_seq, f"wallet {wallet_id}: seq gap at {tx.seq}"
        amount = tx.amount.amount
        assert amount > 0, f"tx {tx}: amount must be positive"
        if tx.kind == TxKind.HOLD_CHANGE:
            delta = tx.held_after.amount - held
            assert abs(delta) == amount, f"tx {tx}: hold change of {delta} logged as {amount}"
            held += delta
        else:
            dt, dc, dh = MOVES[tx.kind]
            total += dt * amount
            consumed += dc * amount
            held += dh * amount
        after = (tx.total_after.amount, tx.consumed_after.amount, tx.held_after.amount)
        assert after == (total, consumed, held), f"tx {tx}: after-balances {after} do not replay"
        assert total - consumed - held >= 0, f"tx {tx}: available below zero"
        assert held >= 0, f"tx {tx}: held below zero"
    return total, consumed, held


def assert_wallet_consistent(wallet) -> Wallet:
    """total - consumed - held == available >= 0; the row equals the log's replay and the
    last transaction's after-balances; held equals the sum of the active holds."""
    w = fresh(wallet)
    total, consumed, held = w.total.amount, w.consumed.amount, w.held.amount
    assert total - consumed - held == w.available.amount >= 0
    assert held >= 0 and consumed >= 0
    assert replay(w.pk) == (total, consumed, held)
    last = WalletTransaction.objects.filter(wallet_id=w.pk).order_by("-seq").first()
    if last is None:
        assert (total, consumed, held) == (ZERO, ZERO, ZERO) and w.last_seq == 0
    else:
        assert w.last_seq == last.seq
        assert (last.total_after.amount, last.consumed_after.amount, last.held_after.amount) == (
            total,
            consumed,
            held,
        )
    active = Hold.objects.filter(wallet_id=w.pk, status=HoldStatus.ACTIVE)
    assert sum((h.amount.amount for h in active), ZERO) == held
    return w


def snapshot() -> dict:
    """Everything a refused wallet operation must leave untouched."""
    return {
        "wallets": list(
            Wallet.objects.order_by("pk").values_list(
                "pk", "status", "total", "consumed", "held", "last_seq"
            )
        ),
        "transactions": WalletTransaction.objects.count(),
        "holds": list(Hold.objects.order_by("pk").values_list("pk", "status", "amount")),
        "memos": CreditMemo.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "balance", "last_seq")),
        "invoices": list(
            Invoice.objects.order_by("pk").values_list(
                "pk", "status", "total", "amount_paid", "amount_credited"
            )
        ),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "amount")),
    }


def waiting_payment(invoice) -> Payment | None:
    """The invoice's single payment still waiting for money (or None)."""
    found = list(
        Payment.objects.filter(
            invoice=invoice,
            direction="incoming",
            status__in=["pending_billing", "waiting_for_payment", "expired"],
        )
    )
    assert len(found) <= 1, f"more than one open payment for {invoice}: {found}"
    return found[0] if found else None
