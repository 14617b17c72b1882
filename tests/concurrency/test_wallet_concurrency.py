"""Wallets under real concurrency (SPEC sections 6 and 7): available never below zero.

PostgreSQL only: real threads, each with its own connection, started together by a
barrier (no sleeps), each closing its connection in ``finally``. Every transaction the
wallet logged carries the balances after it, so "never below zero at any moment" is
checked on every one of them, and the log must replay to the wallet row.
"""

import random
import re
import threading
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction

from ledger import services as ledger
from ledger.errors import InsufficientFunds
from ledger.models import Account, Invoice, LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from tests.wallets.conftest import assert_wallet_consistent
from wallets import services as wallets
from wallets.models import Hold, TxKind, Wallet, WalletTransaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = ledger.system_actor("concurrency")
THREADS = 8
DRAWDOWNS_PER_THREAD = 200
REFUSAL = re.compile(
    r"^Wallet '(?P<name>[^']+)': (?P<what>drawdown|transfer) of £(?P<amount>[\d,]+\.\d\d) "
    r"refused: only £(?P<available>[\d,]+\.\d\d) is available\.$"
)


def run_threads(targets, timeout=120):
    """Start one thread per callable together; return the errors they raised."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(target):
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a worker hung (deadlock?)"
    return errors


def random_amount(rng: random.Random, max_pence: int) -> str:
    """A Decimal string at GBP precision, e.g. '123.45' — never a float."""
    pence = rng.randint(1, max_pence)
    return f"{pence // 100}.{pence % 100:02d}"


def money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def check_refusal(exc: Exception, amount: str, what: str = "drawdown") -> None:
    """A refusal is InsufficientFunds with a message naming the amount and what was left."""
    assert isinstance(exc, InsufficientFunds), f"unexpected {type(exc).__name__}: {exc}"
    found = REFUSAL.match(str(exc))
    assert found, f"unclear refusal message: {exc}"
    assert found["what"] == what and money(found["amount"]) == Decimal(amount)
    assert money(found["available"]) < Decimal(amount), str(exc)
    assert exc.field == "amount" and exc.http_status == 409


def drawdown_worker(wallet_id, n, accepted, refused, count=DRAWDOWNS_PER_THREAD, max_pence=100_000):
    def work():
        rng = random.Random(7_000 + n)
        for i in range(count):
            amount = random_amount(rng, max_pence)
            reference = f"T{n}-{i}"
            try:
                tx = wallets.usage_drawdown(
                    wallet=wallet_id, amount=amount, reference=reference, actor=ACTOR
                )
            except InsufficientFunds as exc:
                check_refusal(exc, amount)
                refused.append((reference, Decimal(amount)))
            else:
                assert tx.amount.amount == Decimal(amount) and tx.available_after.amount >= 0
                accepted.append((reference, Decimal(amount)))

    return work


def check_drawdowns(wallet_id, accepted, refused) -> None:
    """Each accepted drawdown logged exactly once with its amount; no refused one logged."""
    logged = dict(
        WalletTransaction.objects.filter(wallet_id=wallet_id, kind=TxKind.DRAWDOWN).values_list(
            "usage_reference", "amount"
        )
    )
    assert logged == dict(accepted)
    assert not set(logged) & {reference for reference, _ in refused}
    wallet = Wallet.objects.get(pk=wallet_id)
    assert wallet.consumed.amount >= sum(amount for _, amount in accepted)


def test_concurrent_drawdowns_never_overdraw(make_account):
    account = make_account(name="Hot wallet owner")
    wallet = wallets.create_wallet(account=account, name="Hot", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="250000.00", actor=ACTOR, grant=True)
    accepted, refused = [], []  # list.append is atomic under the GIL

    errors = run_threads([drawdown_worker(wallet.pk, n, accepted, refused) for n in range(THREADS)])
    assert errors == []

    assert len(accepted) + len(refused) == THREADS * DRAWDOWNS_PER_THREAD
    assert accepted and refused, "the wallet must cover only part of the drawdowns"
    wallet = assert_wallet_consistent(wallet)  # every tx: available_after >= 0, replay
    accepted_total = sum(amount for _, amount in accepted)
    assert wallet.total.amount == Decimal("250000.00")
    assert wallet.consumed.amount == accepted_total
    assert wallet.held.amount == 0
    assert wallet.available.amount == Decimal("250000.00") - accepted_total >= 0
    # The wallet cannot have refused a drawdown it could have paid at the very end.
    assert min(amount for _, amount in refused) > wallet.available.amount
    check_drawdowns(wallet.pk, accepted, refused)
    kinds = Counter(WalletTransaction.objects.filter(wallet=wallet).values_list("kind", flat=True))
    assert kinds == {TxKind.GRANT: 1, TxKind.DRAWDOWN: len(accepted)}
    assert not LedgerEntry.objects.filter(account=account).exists()  # usage: wallet-only


def is_deadlock(exc: Exception) -> bool:
    return isinstance(exc, OperationalError) and "deadlock detected" in str(exc)


def test_concurrent_holds_drawdowns_and_transfers(make_account):
    account = make_account(name="Metered member")
    wallet = wallets.create_wallet(account=account, name="Usage", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="60000.00", actor=ACTOR, grant=True)
    invoices = []
    for i in range(3):
        draft = ledger.create_invoice(
            account=account, actor=ACTOR, lines=[LineSpec(f"Metered {i}", "100", "10.00")]
        )
        invoice = ledger.open_invoice(invoice=draft, actor=ACTOR)
        pay.apply_wallet(wallet=wallet, invoice=invoice, actor=ACTOR)  # hold 1,000.00
        invoices.append(invoice)
    assert Wallet.objects.get(pk=wallet.pk).held.amount == Decimal("3000.00")
    accepted, refused, transferred, deadlocks = [], [], [], []
    changes = Counter()

    stop = threading.Event()

    def guarded(op):
        """Run one operation. A deadlock (its transaction rolled back) stops every worker
        (each costs a second of deadlock_timeout), the money checks below still run, and
        the test fails on it at the end."""
        if stop.is_set():
            return
        try:
            op()
        except OperationalError as exc:
            if not is_deadlock(exc):
                raise
            deadlocks.append(exc)
            stop.set()

    def hold_changer(n):
        def work():
            rng = random.Random(9_000 + n)
            line_id = invoices[n].lines.get().pk
            for _ in range(150):
                quantity = str(rng.randint(0, 2_000))  # 0.00 to 20,000.00
                guarded(
                    lambda q=quantity: wallets.update_ongoing_line(
                        line=line_id, quantity=q, actor=ACTOR
                    )
                )
                changes[n] += 1

        return work

    def drawdowns(n):
        def work():
            rng = random.Random(7_000 + n)
            for i in range(150):
                amount = random_amount(rng, 100_000)
                guarded(lambda a=amount, i=i: draw(a, f"T{n}-{i}"))

        return work

    def draw(amount, reference):
        try:
            tx = wallets.usage_drawdown(
                wallet=wallet.pk, amount=amount, reference=reference, actor=ACTOR
            )
        except InsufficientFunds as exc:
            check_refusal(exc, amount)
            refused.append((reference, Decimal(amount)))
        else:
            assert tx.available_after.amount >= 0
            accepted.append((reference, Decimal(amount)))

    def transfer(amount):
        try:
            wallets.transfer_to_credit(wallet=wallet.pk, amount=amount, actor=ACTOR)
        except InsufficientFunds as exc:
            check_refusal(exc, amount, what="transfer")
        else:
            transferred.append(Decimal(amount))

    def transferrer():
        rng = random.Random(11_000)
        for _ in range(60):
            amount = random_amount(rng, 50_000)
            guarded(lambda a=amount: transfer(a))

    targets = [hold_changer(n) for n in range(3)] + [drawdowns(n) for n in range(4)]
    targets.append(transferrer)
    errors = run_threads(targets)
    assert errors == []

    wallet = assert_wallet_consistent(wallet)  # held == Σ active holds, every tx >= 0
    kinds = Counter(WalletTransaction.objects.filter(wallet=wallet).values_list("kind", flat=True))
    assert kinds[TxKind.DRAWDOWN] == len(accepted)
    assert kinds[TxKind.TRANSFER_TO_CREDIT] == len(transferred)
    assert wallet.consumed.amount == sum(a for _, a in accepted) + sum(transferred)
    check_drawdowns(wallet.pk, accepted, refused)
    for invoice in invoices:
        invoice = Invoice.objects.get(pk=invoice.pk)
        hold = Hold.objects.get(invoice=invoice, status="active")
        assert 0 <= hold.amount.amount <= invoice.total.amount
    account = Account.objects.get(pk=account.pk)
    assert account.balance.amount == sum(transferred)  # CRED + per transfer
    assert LedgerEntry.objects.filter(account=account, kind="CRED").count() == len(transferred)
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "consistent" in out.getvalue()

    # The holds still work after the storm: issuing captures, cancelling releases.
    pay.issue_invoice(invoice=invoices[0], actor=ACTOR)
    pay.cancel_invoice(invoice=invoices[1], actor=ACTOR)
    wallet = assert_wallet_consistent(wallet)
    assert Hold.objects.filter(wallet=wallet, status="active").count() == 1
    call_command("verify_ledger", stdout=StringIO())

    # Last, so that everything above is checked even while the bug is there.
    assert not deadlocks, f"{len(deadlocks)} deadlock(s): {deadlocks[0]}"
    assert sum(changes.values()) == 3 * 150 and kinds[TxKind.HOLD_CHANGE] > 0
    assert len(accepted) + len(refused) == 4 * 150, f"{len(deadlocks)} deadlocks"


def test_the_same_new_usage_reference_drawn_at_once_is_drawn_once(make_account):
    """A meter retrying a call while the first is in flight: eight calls with one new
    reference at the same moment (half inside a caller's transaction, as the API runs
    them) draw once, and every caller gets that one drawdown back."""
    account = make_account(name="Retrying meter")
    wallet = wallets.create_wallet(account=account, name="Meter", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="100.00", actor=ACTOR, grant=True)
    results = []

    def caller(n):
        def work():
            for round_ in range(20):

                def draw(round_=round_):
                    return wallets.usage_drawdown(
                        wallet=wallet.pk, amount="1.25", reference=f"U-{round_}", actor=ACTOR
                    )

                if n % 2:
                    with transaction.atomic():
                        results.append((round_, draw().pk))
                else:
                    results.append((round_, draw().pk))

        return work

    assert run_threads([caller(n) for n in range(THREADS)]) == []
    by_round = {}
    for round_, pk in results:
        by_round.setdefault(round_, set()).add(pk)
    assert len(results) == THREADS * 20
    assert all(len(pks) == 1 for pks in by_round.values()), by_round
    wallet = assert_wallet_consistent(wallet)
    assert wallet.consumed.amount == Decimal("25.00")  # 20 references × 1.25, once each
    assert WalletTransaction.objects.filter(wallet=wallet, kind=TxKind.DRAWDOWN).count() == 20
