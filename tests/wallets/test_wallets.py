"""Wallets (SPEC section 6): top-ups, applying wallet money to issued invoices (drawdown +
prepayment credit memo + CRMO), usage drawdowns, transfer to account credit, refusals.

Every refusal is checked to change nothing; every test ends with the wallet log
replaying to the wallet row and ``verify_ledger`` clean (autouse fixture).
"""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from ledger import services as ledger
from ledger.errors import InsufficientFunds, InvalidAmount, InvalidInput, StateConflict
from ledger.models import Account, LedgerEntry
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import CreditMemo, TxKind, WalletTransaction

from .conftest import (
    assert_wallet_consistent,
    balances,
    fresh,
    gbp,
    snapshot,
    waiting_payment,
)

D = Decimal


def account_balance(account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance.amount


def crmo_entries(invoice) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(invoice=invoice, kind="CRMO").order_by("seq"))


def assert_memos_posted(memos, wallet, invoice):
    """Each memo: prepayment, approved, wallet + line + drawdown tx, its CRMO entry."""
    memo_type = ContentType.objects.get_for_model(CreditMemo)
    for memo in memos:
        memo = fresh(memo)
        assert memo.reason == "prepayment" and memo.status == "approved"
        assert memo.wallet_id == wallet.pk and memo.invoice_id == invoice.pk
        assert memo.invoice_line.invoice_id == invoice.pk
        assert memo.drawdown.kind in (TxKind.DRAWDOWN, TxKind.HOLD_CAPTURE)
        assert memo.drawdown.amount == memo.amount
        assert memo.drawdown.wallet_id == wallet.pk
        assert memo.drawdown.invoice_id == invoice.pk
        entry = LedgerEntry.objects.get(reference=f"CRMO-{memo.number}")
        assert (entry.kind, entry.invoice_id, entry.account_id) == (
            "CRMO",
            invoice.pk,
            invoice.account_id,
        )
        assert entry.credit == memo.amount and entry.debit.amount == 0
        assert (entry.source_type_id, entry.source_id) == (memo_type.pk, memo.pk)


# --- the SPEC section 6 example ---------------------------------------------------------


def test_spec_example_top_up_payment_then_1200_applied_to_invoice(
    account, make_wallet, issued, actor
):
    wallet = make_wallet(account)
    payment = pay.request_wallet_top_up(wallet=wallet, amount="50000.00", actor=actor)
    # Requested only: nothing arrives in the wallet before the payment completes.
    assert payment.type == "top_up" and payment.status == "waiting_for_payment"
    assert payment.wallet_id == wallet.pk and payment.amount == gbp("50000.00")
    assert balances(wallet) == (0, 0, 0, 0)
    assert not WalletTransaction.objects.filter(wallet=wallet).exists()

    pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=actor)
    assert fresh(payment).status == "completed"
    assert balances(wallet) == (D("50000.00"), 0, 0, D("50000.00"))
    (top_up,) = WalletTransaction.objects.filter(wallet=wallet)
    assert top_up.kind == TxKind.TOP_UP and top_up.amount == gbp("50000.00")
    assert top_up.source == fresh(payment) and top_up.reference == f"PAYM-{payment.number}"
    # Wallet money is not account credit: the ledger sees it when it is spent (CRMO).
    assert account_balance(account) == 0
    assert not LedgerEntry.objects.filter(account=account).exists()

    invoice = issued(account, "1200.00")
    assert waiting_payment(invoice).amount == gbp("1200.00")
    memos = pay.apply_wallet(wallet=wallet, invoice=invoice, amount="1200.00", actor=actor)

    assert balances(wallet) == (D("50000.00"), D("1200.00"), 0, D("48800.00"))
    assert len(memos) == 1
    assert_memos_posted(memos, wallet, invoice)
    assert memos[0].amount == gbp("1200.00")
    invoice = fresh(invoice)
    assert invoice.amount_credited == gbp("1200.00")
    assert invoice.amount_due.amount == 0 and invoice.status == "paid"
    assert invoice.lines.get().prepaid_amount == gbp("1200.00")
    assert waiting_payment(invoice) is None
    assert Payment.objects.get(invoice=invoice).status == "cancelled"
    assert account_balance(account) == 0  # INVC -1,200.00 then CRMO +1,200.00
    assert assert_wallet_consistent(wallet).available == gbp("48800.00")


def test_spec_example_with_grant_drawdown_across_two_lines(account, make_wallet, issued, actor):
    wallet = make_wallet(account)
    tx = wallets.top_up(wallet=wallet, amount="50000.00", actor=actor, grant=True)
    assert tx.kind == TxKind.GRANT and tx.source is None
    invoice = issued(account, "1000.00", "1000.00")
    first, second = invoice.lines.order_by("position")

    memos = pay.apply_wallet(wallet=wallet, invoice=invoice, amount="1200.00", actor=actor)

    assert balances(wallet) == (D("50000.00"), D("1200.00"), 0, D("48800.00"))
    assert [(m.invoice_line_id, m.amount.amount) for m in memos] == [
        (first.pk, D("1000.00")),
        (second.pk, D("200.00")),
    ]
    assert_memos_posted(memos, wallet, invoice)
    assert [e.credit.amount for e in crmo_entries(invoice)] == [D("1000.00"), D("200.00")]
    assert fresh(first).prepaid_amount == gbp("1000.00")
    assert fresh(second).prepaid_amount == gbp("200.00")
    invoice = fresh(invoice)
    assert invoice.amount_credited == gbp("1200.00") and invoice.status == "partially_paid"
    assert invoice.amount_due == gbp("800.00")
    assert waiting_payment(invoice).amount == gbp("800.00")  # shrank
    assert account_balance(account) == D("-800.00")
    assert_wallet_consistent(wallet)


@pytest.mark.parametrize(
    ("available", "due", "applied"),
    [("100.00", "75.00", "75.00"), ("50.00", "75.00", "50.00"), ("75.00", "75.00", "75.00")],
)
def test_default_amount_is_the_lesser_of_due_and_available(
    account, make_wallet, issued, actor, available, due, applied
):
    wallet = make_wallet(account, grant=available)
    invoice = issued(account, due)
    memos = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    assert sum((m.amount for m in memos), gbp(0)) == gbp(applied)
    assert fresh(invoice).amount_credited == gbp(applied)
    assert balances(wallet)[1:] == (D(applied), 0, D(available) - D(applied))
    rest = D(due) - D(applied)
    payment = waiting_payment(fresh(invoice))
    assert (payment.amount.amount if payment else D(0)) == rest
    assert_wallet_consistent(wallet)


# --- refusals: each changes nothing -------------------------------------------------------


def test_more_than_due_is_invalid_input(account, make_wallet, issued, actor):
    wallet = make_wallet(account, grant="500.00")
    invoice = issued(account, "75.00")
    before = snapshot()
    with pytest.raises(InvalidInput, match=r"more than the £75\.00 due") as exc:
        pay.apply_wallet(wallet=wallet, invoice=invoice, amount="75.01", actor=actor)
    assert exc.value.field == "amount" and exc.value.http_status == 422
    assert snapshot() == before


def test_more_than_available_is_insufficient_funds(account, make_wallet, issued, actor):
    wallet = make_wallet(account, grant="50.00")
    invoice = issued(account, "75.00")
    before = snapshot()
    with pytest.raises(InsufficientFunds, match=r"only £50\.00 is available") as exc:
        pay.apply_wallet(wallet=wallet, invoice=invoice, amount="60.00", actor=actor)
    assert exc.value.http_status == 409 and exc.value.code == "insufficient_funds"
    assert snapshot() == before


def test_empty_wallet_default_amount_is_insufficient_funds(account, make_wallet, issued, actor):
    wallet = make_wallet(account)
    invoice = issued(account, "75.00")
    before = snapshot()
    with pytest.raises(InsufficientFunds, match="available"):
        pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    assert snapshot() == before


def test_bad_amounts_are_refused(account, make_wallet, issued, actor):
    wallet = make_wallet(account, grant="500.00")
    invoice = issued(account, "75.00")
    before = snapshot()
    for bad, message in [
        ("10.001", "more decimal places"),
        (10.5, "floats are not accepted"),
        ("0", "must be positive"),
        ("-5.00", "must be positive"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            pay.apply_wallet(wallet=wallet, invoice=invoice, amount=bad, actor=actor)
    assert snapshot() == before


def test_closed_wallet_is_refused_everywhere(account, make_wallet, issued, ongoing, actor):
    wallet = make_wallet(account, grant="20.00")
    with pytest.raises(StateConflict, match="still holds £20.00 available"):
        wallets.close_wallet(wallet=wallet, actor=actor)
    wallets.usage_drawdown(wallet=wallet, amount="20.00", reference="u-1", actor=actor)
    closed = wallets.close_wallet(wallet=wallet, actor=actor)
    assert closed.status == "closed" and closed.closed_at is not None
    invoice = issued(account, "75.00")
    open_invoice = ongoing(account, "10.00")
    before = snapshot()
    attempts = [
        lambda: pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor),
        lambda: pay.apply_wallet(wallet=wallet, invoice=open_invoice, actor=actor),
        lambda: wallets.top_up(wallet=wallet, amount="5.00", actor=actor, grant=True),
        lambda: pay.request_wallet_top_up(wallet=wallet, amount="5.00", actor=actor),
        lambda: wallets.usage_drawdown(wallet=wallet, amount="1.00", reference="u-2", actor=actor),
        lambda: wallets.transfer_to_credit(wallet=wallet, amount="1.00", actor=actor),
        lambda: wallets.close_wallet(wallet=wallet, actor=actor),
    ]
    for attempt in attempts:
        with pytest.raises(StateConflict, match="Wallet 'Main' is closed"):
            attempt()
    assert snapshot() == before


def test_wallet_of_another_account_is_refused(make_account, make_wallet, issued, ongoing, actor):
    mine, theirs = make_account(name="Mine"), make_account(name="Theirs")
    their_wallet = make_wallet(theirs, grant="500.00")
    invoice = issued(mine, "75.00")
    open_invoice = ongoing(mine, "10.00")
    before = snapshot()
    for target in (invoice, open_invoice):
        with pytest.raises(InvalidInput, match="belongs to another account") as exc:
            pay.apply_wallet(wallet=their_wallet, invoice=target, actor=actor)
        assert exc.value.field == "wallet"
    assert snapshot() == before


def test_invoice_that_takes_no_wallet_money_is_refused(account, make_wallet, actor):
    wallet = make_wallet(account, grant="500.00")
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[ledger.LineSpec("Line", "1", "10.00")]
    )
    before = snapshot()
    with pytest.raises(StateConflict, match="is draft: wallet money can be applied"):
        pay.apply_wallet(wallet=wallet, invoice=draft, actor=actor)
    assert snapshot() == before


# --- usage drawdowns ----------------------------------------------------------------------


def test_usage_drawdown_within_available(account, make_wallet, actor):
    wallet = make_wallet(account, grant="100.00")
    tx = wallets.usage_drawdown(wallet=wallet, amount="30.25", reference="meter-1", actor=actor)
    assert (tx.kind, tx.amount, tx.usage_reference) == (TxKind.DRAWDOWN, gbp("30.25"), "meter-1")
    assert tx.available_after == gbp("69.75")
    wallets.usage_drawdown(wallet=wallet, amount="69.75", reference="meter-2", actor=actor)
    assert balances(wallet) == (D("100.00"), D("100.00"), 0, 0)  # exactly all of it
    assert not LedgerEntry.objects.exists()  # usage is wallet-only: no ledger entry
    assert_wallet_consistent(wallet)


def test_usage_drawdown_beyond_available_is_refused_whole(account, make_wallet, actor):
    wallet = make_wallet(account, grant="100.00")
    wallets.usage_drawdown(wallet=wallet, amount="60.00", reference="meter-1", actor=actor)
    before = snapshot()
    with pytest.raises(InsufficientFunds) as exc:
        wallets.usage_drawdown(wallet=wallet, amount="40.01", reference="meter-2", actor=actor)
    assert str(exc.value) == (
        "Wallet 'Main': drawdown of £40.01 refused: only £40.00 is available."
    )
    assert exc.value.field == "amount"
    assert snapshot() == before  # no partial drawdown, nothing recorded
    assert not WalletTransaction.objects.filter(usage_reference="meter-2").exists()
    assert_wallet_consistent(wallet)


def test_usage_reference_repeated(account, make_wallet, actor):
    wallet = make_wallet(account, grant="100.00")
    first = wallets.usage_drawdown(wallet=wallet, amount="10.00", reference="m-7", actor=actor)
    before = snapshot()
    again = wallets.usage_drawdown(wallet=wallet, amount="10.00", reference="m-7", actor=actor)
    assert again.pk == first.pk
    assert snapshot() == before  # a retried meter call is harmless
    with pytest.raises(StateConflict, match="usage 'm-7' was already drawn for £10.00") as exc:
        wallets.usage_drawdown(wallet=wallet, amount="12.00", reference="m-7", actor=actor)
    assert exc.value.field == "reference"
    assert snapshot() == before
    assert balances(wallet) == (D("100.00"), D("10.00"), 0, D("90.00"))


def test_usage_drawdown_bad_input(account, make_wallet, actor):
    wallet = make_wallet(account, grant="100.00")
    before = snapshot()
    with pytest.raises(InvalidAmount, match="floats are not accepted"):
        wallets.usage_drawdown(wallet=wallet, amount=1.0, reference="r", actor=actor)
    with pytest.raises(InvalidInput, match="must be positive"):
        wallets.usage_drawdown(wallet=wallet, amount="0.00", reference="r", actor=actor)
    with pytest.raises(InvalidAmount, match="more decimal places"):
        wallets.usage_drawdown(wallet=wallet, amount="0.001", reference="r", actor=actor)
    assert snapshot() == before


def test_usage_drawdown_without_reference_is_invalid_input(account, make_wallet, actor):
    wallet = make_wallet(account, grant="100.00")
    with pytest.raises(InvalidInput, match="usage reference") as exc:
        wallets.usage_drawdown(wallet=wallet, amount="1.00", reference=" ", actor=actor)
    assert exc.value.field == "reference"


def test_create_wallet_without_name_is_invalid_input(account, actor):
    with pytest.raises(InvalidInput, match="needs a name") as exc:
        wallets.create_wallet(account=account, name="  ", actor=actor)
    assert exc.value.field == "name"


def test_create_wallet_twice_with_one_name_is_invalid_input(account, make_wallet, actor):
    make_wallet(account, name="Main")
    with pytest.raises(InvalidInput, match="already has a wallet named 'Main'"):
        wallets.create_wallet(account=account, name="Main", actor=actor)


# --- transfer to account credit -----------------------------------------------------------


def test_transfer_to_credit_posts_cred_and_pays_the_next_invoice(
    account, make_wallet, issued, actor
):
    wallet = make_wallet(account, grant="100.00")
    tx = wallets.transfer_to_credit(wallet=wallet, amount="50.00", actor=actor)
    assert tx.kind == TxKind.TRANSFER_TO_CREDIT
    assert balances(wallet) == (D("100.00"), D("50.00"), 0, D("50.00"))
    (cred,) = LedgerEntry.objects.filter(account=account)
    assert (cred.kind, cred.credit, cred.debit.amount) == ("CRED", gbp("50.00"), 0)
    assert cred.source == tx and cred.balance_after == gbp("50.00")
    assert account_balance(account) == D("50.00")

    # SPEC section 3: the credit pays as much of the next invoice as it can.
    invoice = issued(account, "75.00")
    assert invoice.status == "partially_paid" and invoice.amount_due == gbp("25.00")
    entries = [
        (e.kind, e.debit.amount, e.credit.amount)
        for e in LedgerEntry.objects.filter(account=account, seq__gt=cred.seq).order_by("seq")
    ]
    assert entries == [
        ("INVC", D("75.00"), 0),
        ("PAYM", 0, D("50.00")),
        ("CRED", 0, D("-50.00")),
    ]
    assert account_balance(account) == D("-25.00")
    assert waiting_payment(invoice).amount == gbp("25.00")
    assert_wallet_consistent(wallet)


def test_transfer_beyond_available_is_refused(account, make_wallet, actor):
    wallet = make_wallet(account, grant="10.00")
    before = snapshot()
    with pytest.raises(InsufficientFunds, match=r"transfer .*only £10\.00 is available"):
        wallets.transfer_to_credit(wallet=wallet, amount="10.01", actor=actor)
    assert snapshot() == before


# --- prepayment memos are final -----------------------------------------------------------


def test_an_invoice_carrying_a_prepayment_memo_cannot_be_cancelled(
    account, make_wallet, issued, actor
):
    """A prepayment memo is final: there is no service that cancels one (the model has no
    cancelled status), and the invoice it pays cannot be cancelled either."""
    wallet = make_wallet(account, grant="500.00")
    invoice = issued(account, "75.00", "25.00")
    (memo,) = pay.apply_wallet(wallet=wallet, invoice=invoice, amount="30.00", actor=actor)
    before = snapshot()
    with pytest.raises(StateConflict, match="wallet prepayment of .* was applied") as exc:
        pay.cancel_invoice(invoice=invoice, actor=actor, reason="mistake")
    assert "refund" in str(exc.value)
    assert snapshot() == before
    assert fresh(memo).status == "approved"
    assert fresh(invoice).status == "partially_paid"
    assert waiting_payment(invoice).amount == gbp("70.00")


# --- append-only transactions -------------------------------------------------------------


def test_wallet_transactions_refuse_save_and_delete(account, make_wallet, actor):
    wallet = make_wallet(account, grant="10.00")
    tx = WalletTransaction.objects.get(wallet=wallet)
    tx.description = "edited"
    with pytest.raises(TypeError, match="append-only"):
        tx.save()
    with pytest.raises(TypeError, match="append-only"):
        tx.delete()
    assert WalletTransaction.objects.get(pk=tx.pk).description == "Grant by staff"


@pytest.mark.postgres
def test_wallet_transactions_refuse_raw_update_and_delete_on_postgres(account, make_wallet, actor):
    wallet = make_wallet(account, grant="10.00")
    tx = WalletTransaction.objects.get(wallet=wallet)
    table = WalletTransaction._meta.db_table
    for sql in (
        f"UPDATE {table} SET amount = 1 WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [tx.pk])
    assert WalletTransaction.objects.get(pk=tx.pk).amount == gbp("10.00")
    assert_wallet_consistent(wallet)


def test_wallet_transaction_queryset_writes_are_refused(account, make_wallet, actor):
    wallet = make_wallet(account, grant="10.00")
    rows = WalletTransaction.objects.filter(wallet=wallet)
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        rows.delete()
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        rows.update(description="edited")
    assert rows.get().description == "Grant by staff"
