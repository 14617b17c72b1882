"""Holds (SPEC section 6): wallet money reserved for an ongoing invoice follows its amount
as consumption changes it, is captured (drawdown + prepayment credit memo + CRMO) when
the invoice is issued, and released when it is cancelled.

After every step: ``total - consumed - held == available >= 0`` and the wallet's
transaction log replays to the wallet row (``assert_wallet_consistent``).
"""

from decimal import Decimal

import pytest

from ledger.errors import InsufficientFunds
from ledger.models import LedgerEntry
from payments import services as pay
from wallets import services as wallets
from wallets.models import CreditMemo, Hold, TxKind, WalletTransaction

from .conftest import assert_wallet_consistent, balances, fresh, gbp, snapshot, waiting_payment

D = Decimal


def metered(ongoing, account, unit_price="10.00"):
    """An ongoing invoice with one metered line: quantity 1 x ``unit_price`` for now."""
    invoice = ongoing(account, unit_price)
    line = invoice.lines.get()
    return invoice, line


def set_quantity(line, quantity, actor):
    wallets.update_ongoing_line(line=line, quantity=quantity, actor=actor)


def last_tx(wallet):
    return WalletTransaction.objects.filter(wallet=wallet).order_by("-seq").first()


def test_hold_follows_the_ongoing_invoice_up_down_and_is_capped(
    account, make_wallet, ongoing, actor
):
    wallet = make_wallet(account, grant="100.00")
    invoice, line = metered(ongoing, account)
    set_quantity(line, "3", actor)  # 30.00, before any hold: nothing moves in the wallet
    assert balances(wallet) == (D("100.00"), 0, 0, D("100.00"))

    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    assert isinstance(hold, Hold) and hold.status == "active" and hold.requested is None
    assert hold.amount == gbp("30.00")
    assert balances(wallet) == (D("100.00"), 0, D("30.00"), D("70.00"))
    assert (last_tx(wallet).kind, last_tx(wallet).amount) == (TxKind.HOLD, gbp("30.00"))
    assert fresh(invoice).status == "ongoing"  # nothing posted while ongoing
    assert not LedgerEntry.objects.exists()
    assert_wallet_consistent(wallet)

    set_quantity(line, "5", actor)  # up: 50.00
    assert fresh(hold).amount == gbp("50.00")
    assert balances(wallet) == (D("100.00"), 0, D("50.00"), D("50.00"))
    tx = last_tx(wallet)
    assert (tx.kind, tx.amount, tx.hold_id, tx.invoice_id) == (
        TxKind.HOLD_CHANGE,
        gbp("20.00"),
        hold.pk,
        invoice.pk,
    )
    assert_wallet_consistent(wallet)

    set_quantity(line, "2", actor)  # down: 20.00
    assert fresh(hold).amount == gbp("20.00")
    assert balances(wallet) == (D("100.00"), 0, D("20.00"), D("80.00"))
    assert (last_tx(wallet).kind, last_tx(wallet).amount) == (TxKind.HOLD_CHANGE, gbp("30.00"))
    assert_wallet_consistent(wallet)

    set_quantity(line, "15", actor)  # 150.00: beyond what the wallet has
    assert fresh(invoice).total == gbp("150.00")
    assert fresh(hold).amount == gbp("100.00")  # capped at what was available
    assert balances(wallet) == (D("100.00"), 0, D("100.00"), 0)  # 0, never negative
    assert_wallet_consistent(wallet)

    set_quantity(line, "12", actor)  # 120.00: still more than the hold
    assert fresh(hold).amount == gbp("100.00")
    set_quantity(line, "9.5", actor)  # 95.00: the hold comes down to the invoice
    assert fresh(hold).amount == gbp("95.00")
    assert balances(wallet) == (D("100.00"), 0, D("95.00"), D("5.00"))
    assert_wallet_consistent(wallet)

    # Other money arriving does not raise a hold by itself; the next consumption does.
    wallets.top_up(wallet=wallet, amount="50.00", actor=actor, grant=True)
    set_quantity(line, "13", actor)
    assert fresh(hold).amount == gbp("130.00")
    assert balances(wallet) == (D("150.00"), 0, D("130.00"), D("20.00"))
    assert_wallet_consistent(wallet)


def test_usage_drawdown_cannot_take_held_money(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account, grant="100.00")
    invoice, _line = metered(ongoing, account, unit_price="80.00")
    pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    before = snapshot()
    with pytest.raises(InsufficientFunds, match=r"only £20\.00 is available"):
        wallets.usage_drawdown(wallet=wallet, amount="20.01", reference="u", actor=actor)
    assert snapshot() == before
    wallets.usage_drawdown(wallet=wallet, amount="20.00", reference="u", actor=actor)
    assert balances(wallet) == (D("100.00"), D("20.00"), D("80.00"), 0)
    assert_wallet_consistent(wallet)


def test_capped_hold_via_amount(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account, grant="100.00")
    invoice, line = metered(ongoing, account, unit_price="30.00")
    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, amount="25.00", actor=actor)
    assert hold.amount == gbp("25.00") and hold.requested == gbp("25.00")
    assert balances(wallet) == (D("100.00"), 0, D("25.00"), D("75.00"))
    set_quantity(line, "3", actor)  # 90.00: the cap holds
    assert fresh(hold).amount == gbp("25.00")
    set_quantity(line, "0.5", actor)  # 15.00: below the cap, the hold follows down
    assert fresh(hold).amount == gbp("15.00")
    assert balances(wallet) == (D("100.00"), 0, D("15.00"), D("85.00"))
    assert_wallet_consistent(wallet)
    # Applying again changes the cap of the same hold (no second hold).
    again = pay.apply_wallet(wallet=wallet, invoice=invoice, amount="10.00", actor=actor)
    assert again.pk == hold.pk and again.amount == gbp("10.00")
    assert Hold.objects.filter(invoice=invoice).count() == 1
    assert_wallet_consistent(wallet)


def test_hold_on_an_empty_wallet_is_refused(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account)
    invoice, _line = metered(ongoing, account)
    before = snapshot()
    with pytest.raises(InsufficientFunds, match="hold of £10.00 refused: only £0.00"):
        pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    assert snapshot() == before


def test_issue_captures_the_hold(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account, grant="100.00")
    invoice, line = metered(ongoing, account)
    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    set_quantity(line, "15", actor)  # 150.00, hold capped at 100.00
    assert fresh(hold).amount == gbp("100.00")

    issued = pay.issue_invoice(invoice=invoice, actor=actor)

    assert fresh(hold).status == "captured" and fresh(hold).closed_at is not None
    assert balances(wallet) == (D("100.00"), D("100.00"), 0, 0)  # held back to 0
    (memo,) = CreditMemo.objects.filter(invoice=invoice)
    assert (memo.reason, memo.status, memo.wallet_id, memo.invoice_line_id) == (
        "prepayment",
        "approved",
        wallet.pk,
        line.pk,
    )
    assert memo.amount == gbp("100.00")
    assert (memo.drawdown.kind, memo.drawdown.hold_id) == (TxKind.HOLD_CAPTURE, hold.pk)
    entries = [
        (e.kind, e.reference, e.debit.amount, e.credit.amount, e.invoice_id)
        for e in LedgerEntry.objects.filter(account=account).order_by("seq")
    ]
    assert entries == [
        ("INVC", f"INVC-{issued.number}", D("150.00"), 0, invoice.pk),
        ("CRMO", f"CRMO-{memo.number}", 0, D("100.00"), invoice.pk),
    ]
    assert issued.amount_credited == gbp("100.00")
    assert issued.amount_due == gbp("50.00") and issued.status == "partially_paid"
    assert fresh(line).prepaid_amount == gbp("100.00")
    assert waiting_payment(issued).amount == gbp("50.00")  # the rest is due
    assert_wallet_consistent(wallet)


def test_issue_captures_a_hold_below_the_invoice_then_applies_account_credit(
    account, make_wallet, ongoing, actor
):
    """Order at issue: wallet holds first, then account credit, then the waiting payment."""
    wallet = make_wallet(account, grant="30.00")
    savings = make_wallet(account, name="Savings", grant="10.00")
    wallets.transfer_to_credit(wallet=savings, amount="10.00", actor=actor)  # CRED +10
    invoice, _line = metered(ongoing, account, unit_price="50.00")
    pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)  # hold 30 (all of it)

    issued = pay.issue_invoice(invoice=invoice, actor=actor)

    kinds = [
        (e.kind, e.debit.amount, e.credit.amount)
        for e in LedgerEntry.objects.filter(account=account).order_by("seq")
    ]
    assert kinds == [
        ("CRED", 0, D("10.00")),
        ("INVC", D("50.00"), 0),
        ("CRMO", 0, D("30.00")),
        ("PAYM", 0, D("10.00")),
        ("CRED", 0, D("-10.00")),
    ]
    assert issued.amount_credited == gbp("30.00") and issued.amount_paid == gbp("10.00")
    assert issued.amount_due == gbp("10.00")
    assert waiting_payment(issued).amount == gbp("10.00")
    assert balances(wallet) == (D("30.00"), D("30.00"), 0, 0)
    assert_wallet_consistent(wallet)
    assert_wallet_consistent(savings)


def test_two_wallets_share_one_invoice(account, make_wallet, ongoing, actor):
    small = make_wallet(account, name="Small", grant="20.00")
    big = make_wallet(account, name="Big", grant="100.00")
    invoice, line = metered(ongoing, account, unit_price="50.00")
    first = pay.apply_wallet(wallet=small, invoice=invoice, actor=actor)
    second = pay.apply_wallet(wallet=big, invoice=invoice, actor=actor)
    assert (fresh(first).amount, fresh(second).amount) == (gbp("20.00"), gbp("30.00"))
    set_quantity(line, "0.5", actor)  # 25.00 between the two
    assert fresh(first).amount + fresh(second).amount == gbp("25.00")
    for w in (small, big):
        assert_wallet_consistent(w)

    issued = pay.issue_invoice(invoice=invoice, actor=actor)
    assert issued.status == "paid" and issued.amount_credited == gbp("25.00")
    assert fresh(small).consumed + fresh(big).consumed == gbp("25.00")
    assert fresh(small).held.amount == fresh(big).held.amount == 0
    assert waiting_payment(issued) is None
    for w in (small, big):
        assert_wallet_consistent(w)


def test_cancel_releases_the_hold(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account, grant="100.00")
    invoice, line = metered(ongoing, account)
    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    set_quantity(line, "4", actor)
    assert balances(wallet) == (D("100.00"), 0, D("40.00"), D("60.00"))

    cancelled = pay.cancel_invoice(invoice=invoice, actor=actor, reason="customer left")

    assert cancelled.status == "cancelled"
    assert fresh(hold).status == "released" and fresh(hold).closed_at is not None
    assert balances(wallet) == (D("100.00"), 0, 0, D("100.00"))  # available restored
    tx = last_tx(wallet)
    assert (tx.kind, tx.amount, tx.hold_id) == (TxKind.HOLD_RELEASE, gbp("40.00"), hold.pk)
    assert not CreditMemo.objects.exists()
    assert not LedgerEntry.objects.exists()  # never posted
    assert_wallet_consistent(wallet)


def test_staff_release_one_hold(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account, grant="100.00")
    invoice, line = metered(ongoing, account)
    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    released = wallets.release_hold(hold=hold, actor=actor)
    assert released.status == "released"
    assert balances(wallet) == (D("100.00"), 0, 0, D("100.00"))
    set_quantity(line, "8", actor)  # a released hold no longer follows
    assert balances(wallet) == (D("100.00"), 0, 0, D("100.00"))
    assert_wallet_consistent(wallet)
    issued = pay.issue_invoice(invoice=invoice, actor=actor)
    assert issued.amount_credited.amount == 0 and issued.amount_due == gbp("80.00")
    assert_wallet_consistent(wallet)


# SQLite checks CHECK sums in binary floats (0.10 + 0.20 > 0.30): holding all that is
# available after a drawdown once raised IntegrityError there (fixed in 982de1f).
def test_holding_everything_available_after_a_drawdown(account, make_wallet, ongoing, actor):
    wallet = make_wallet(account, grant="0.30")
    wallets.usage_drawdown(wallet=wallet, amount="0.10", reference="u", actor=actor)
    invoice = ongoing(account, "120.00")
    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    assert hold.amount == gbp("0.20")
    assert balances(wallet) == (D("0.30"), D("0.10"), D("0.20"), 0)
    assert_wallet_consistent(wallet)
