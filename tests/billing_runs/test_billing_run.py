"""The period-close billing run issues every ongoing invoice whose period has ended:
holds captured, credit applied, the waiting payment opened, a direct debit started
under a mandate; one invoice's failure never stops it; run again, it issues nothing
twice (SPEC section 7)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from payments import services as pay
from payments.models import BillingRun, BillingRunItem, CallKind, GatewayCall, Payment
from payments.selectors.billing_runs import run_amounts, run_counts
from payments.services import billing_runs as runs
from wallets.models import CreditMemo

from .conftest import assert_gapless, assert_issued_once, fresh, today, verify

D = Decimal


def statuses(invoice):
    return list(
        Payment.objects.filter(invoice=invoice, direction="incoming")
        .order_by("id")
        .values_list("status", "method", "amount")
    )


@pytest.mark.django_db(transaction=True)
def test_a_run_issues_each_ended_invoice_with_its_holds_credit_and_mandate(
    make_account, make_ongoing, held, mandate, actor
):
    plain = make_ongoing(make_account(), "120.00", "30.00")
    with_hold = make_ongoing(make_account(), "80.00")
    hold = held(with_hold, grant="50.00")  # holds 50.00 of 80.00: capped by the wallet
    credited = make_account()
    pay.record_payment(account=credited, amount="25.00", method="bank_transfer", actor=actor)
    with_credit = make_ongoing(credited, "100.00")
    debited = make_account()
    mandate(debited)
    with_mandate = make_ongoing(debited, "60.00")
    erp = make_ongoing(make_account(erp_managed=True), "40.00")
    erp_mandate = fresh(erp).account
    mandate(erp_mandate, reference="MD-ERP-1")
    running = make_ongoing(make_account(), "10.00", period=(today(), today() + timedelta(29)))
    no_period = ledger.open_invoice(
        invoice=ledger.create_invoice(account=make_account(), actor=actor), actor=actor
    )
    cancelled = make_ongoing(make_account(), "5.00")
    pay.cancel_invoice(invoice=cancelled, actor=actor, reason="closed")

    run = runs.close_period(actor=actor)

    assert run.status == "finished" and run.finished_at is not None
    assert run.through == today() - timedelta(days=1)
    counts = run_counts(run)
    assert (counts.total, counts.issued, counts.failed, counts.pending) == (5, 5, 0, 0)
    issued = [plain, with_hold, with_credit, with_mandate, erp]
    assert_issued_once(issued)
    for untouched in (running, no_period):
        assert fresh(untouched).status == "ongoing"
    assert fresh(cancelled).status == "cancelled"

    # Holds captured exactly: the hold's 50.00 became one approved credit memo.
    memo = CreditMemo.objects.get(invoice=with_hold)
    assert memo.amount.amount == D("50.00") and fresh(hold).status == "captured"
    assert fresh(with_hold).amount_due.amount == D("30.00")
    # Credit applied at issue, the rest waits.
    assert statuses(with_credit) == [
        ("paid_from_balance", "account_balance", D("25.00")),
        ("waiting_for_payment", "", D("75.00")),
    ]
    # The mandate's account: the waiting payment went to the gateway by direct debit.
    [(status, method, amount)] = statuses(with_mandate)
    assert (status, method, amount) == ("processing", "direct_debit", D("60.00"))
    call = GatewayCall.objects.get(payment__invoice=with_mandate)
    assert call.kind == CallKind.DIRECT_DEBIT and call.mandate.reference == "MD-RUN-1"
    # ERP-managed: waits for the ERP's approval; no direct debit before it.
    assert [s for s, _m, _a in statuses(erp)] == ["pending_billing"]

    by_invoice = {i.invoice_id: i for i in BillingRunItem.objects.filter(run=run)}
    item = by_invoice[with_credit.pk]
    assert (item.total.amount, item.credit_applied.amount, item.waiting.amount) == (
        D("100.00"),
        D("25.00"),
        D("75.00"),
    )
    assert by_invoice[with_hold.pk].captured.amount == D("50.00")
    assert by_invoice[with_mandate.pk].direct_debit is True
    [gbp] = run_amounts(run)
    money = {name: gbp[name].amount for name in ("total", "captured", "credit_applied", "waiting")}
    assert (gbp["invoices"], money["total"], money["captured"], money["credit_applied"]) == (
        5,
        D("430.00"),
        D("50.00"),
        D("25.00"),
    )
    assert money["waiting"] == D("355.00") and gbp["direct_debits"] == 1

    # Run again: nothing is left to issue, nothing is issued twice.
    again = runs.close_period(actor=actor)
    assert again.pk != run.pk and run_counts(again).total == 0
    assert_issued_once(issued)
    assert_gapless()
    verify()


def one_at_a_time(monkeypatch, *, only=None):
    """Send the batch's invoices (or ``only`` those) through ``issue_invoice`` alone."""
    real = runs.issue_batch

    def batch(ids, accounts, actor):
        ids = list(ids)
        slow = [i for i in ids if only is None or i in only]
        issued, left = real([i for i in ids if i not in slow], accounts, actor)
        return issued, left + slow

    monkeypatch.setattr(runs, "issue_batch", batch)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["batch", "one at a time"])
def test_one_invoice_failing_never_stops_the_run(
    make_account, make_ongoing, actor, monkeypatch, path
):
    invoices = [make_ongoing(make_account(), "10.00") for _ in range(4)]
    empty = make_ongoing(make_account(), "0.00")  # nothing to charge: refused, by its words
    bad = invoices[1]
    real = runs.issue_invoice

    def issue(*, invoice, actor):
        if invoice == bad.pk:
            raise StateConflict("The ERP refused this customer's tax code.", field="invoice")
        return real(invoice=invoice, actor=actor)

    one_at_a_time(monkeypatch, only=None if path == "one at a time" else {bad.pk})
    monkeypatch.setattr(runs, "issue_invoice", issue)
    run = runs.close_period(actor=actor, batch=2)
    counts = run_counts(run)
    assert (counts.issued, counts.failed, counts.pending) == (3, 2, 0)
    item = BillingRunItem.objects.get(run=run, invoice=bad)
    assert (item.status, item.reason) == ("failed", "The ERP refused this customer's tax code.")
    nothing = BillingRunItem.objects.get(run=run, invoice=empty)
    assert nothing.status == "failed" and "has nothing to charge" in nothing.reason
    assert fresh(bad).status == "ongoing" and fresh(bad).number is None
    assert_issued_once([i for i in invoices if i != bad])
    assert_gapless()  # the failed invoices' numbers were given back
    # The next run tries them again.
    monkeypatch.setattr(runs, "issue_invoice", real)
    retry = runs.close_period(actor=actor)
    assert (run_counts(retry).issued, run_counts(retry).failed) == (1, 1)
    assert_issued_once(invoices)
    verify()


@pytest.mark.django_db(transaction=True)
def test_a_crash_half_way_rolls_back_the_batch_and_the_run_resumes(
    make_account, make_ongoing, actor, monkeypatch
):
    invoices = [make_ongoing(make_account(), "10.00") for _ in range(7)]
    real = runs.issue_batch
    calls = {"n": 0}

    def crashing(ids, accounts, actor):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies mid-batch (not an invoice failure)
        return real(ids, accounts, actor)

    monkeypatch.setattr(runs, "issue_batch", crashing)
    with pytest.raises(KeyboardInterrupt):
        runs.close_period(actor=actor, batch=3)
    run = BillingRun.objects.get()
    assert run.status == "running"
    counts = run_counts(run)
    assert (counts.issued, counts.pending) == (3, 4)  # the first batch committed; not the 2nd
    monkeypatch.setattr(runs, "issue_batch", real)
    resumed = runs.close_period(actor=actor)  # joins the running run
    assert resumed.pk == run.pk and resumed.status == "finished"
    assert run_counts(run).issued == 7
    assert_issued_once(invoices)
    assert_gapless()
    verify()


@pytest.mark.django_db
def test_a_period_not_ended_yet_is_refused(actor):
    with pytest.raises(InvalidInput, match="through: .* has not passed yet"):
        runs.start_run(through=today(), actor=actor)
    assert not BillingRun.objects.exists()


@pytest.mark.django_db
def test_the_period_is_whole_and_ordered(make_account, actor):
    account = make_account()
    with pytest.raises(InvalidInput, match="period_end: a billing period needs both"):
        ledger.create_invoice(account=account, actor=actor, period_start=today())
    with pytest.raises(InvalidInput, match="period_end: the period's last day"):
        ledger.create_invoice(
            account=account, actor=actor, period_start=today(), period_end=today() - timedelta(1)
        )
    invoice = ledger.create_invoice(account=account, actor=actor)
    with pytest.raises(InvalidInput, match="period_start: a billing period needs both"):
        ledger.update_invoice(invoice=invoice, actor=actor, period_end=today())


@pytest.mark.django_db(transaction=True)
def test_close_period_command_prints_progress_and_summary(make_account, make_ongoing, capsys):
    for _ in range(3):
        make_ongoing(make_account(), "12.50")
    call_command("close_period", "--batch", "2")
    out, err = capsys.readouterr()
    assert "3 invoice(s), 3 to issue" in out
    assert "finished — issued 3, failed 0, skipped 0, pending 0" in out
    assert "GBP: 3 invoice(s), total £37.50" in out
    assert "3/3  issued 3" in err  # the progress bar
