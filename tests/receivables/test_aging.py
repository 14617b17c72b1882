"""Aging as of any date (SPEC section 7, issue 15): exact figures over a known history,
what an invoice owes today equals its ``amount_due``, and one query whatever the number
of accounts or invoices."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledger.models import Invoice, InvoiceStatus
from payments.models import PaymentAllocation
from payments.selectors.aging import aging, invoice_owed

from .history import (
    AS_OF,
    EXPECTED_ACCOUNTS,
    EXPECTED_GROUPS,
    EXPECTED_TOTALS,
    at,
    figures,
)

pytestmark = pytest.mark.django_db
D = Decimal


def test_aging_per_account_at_a_fixed_date(known_history):
    report = aging(as_of=AS_OF)
    assert {row.name: figures(row) for row in report.rows} == EXPECTED_ACCOUNTS
    assert {c: figures(row) for c, row in report.totals.items()} == EXPECTED_TOTALS
    by_name = {row.name: row for row in report.rows}
    assert by_name["Alpha Ltd"].group_name == "Acme" and by_name["Alpha Ltd"].invoices == 3
    assert by_name["Charlie Ltd"].group_id is None
    assert report.totals["GBP"].invoices == 7 and report.totals["EUR"].invoices == 5


def test_group_rows_are_the_sums_of_their_accounts(known_history):
    by_group = aging(as_of=AS_OF, by="group")
    assert {(r.name, r.currency): figures(r) for r in by_group.rows} == EXPECTED_GROUPS
    by_account = aging(as_of=AS_OF)
    for group_row in by_group.rows:
        members = [
            r
            for r in by_account.rows
            if r.group_id == group_row.group_id and r.currency == group_row.currency
        ]
        sums = tuple(sum(col) for col in zip(*(figures(r) for r in members), strict=True))
        assert sums == figures(group_row), group_row.name
    assert {c: figures(r) for c, r in by_group.totals.items()} == EXPECTED_TOTALS


def test_currency_and_account_filters(known_history):
    euros = aging(as_of=AS_OF, currency="EUR")
    assert [r.name for r in euros.rows] == ["Echo GmbH"] and list(euros.totals) == ["EUR"]
    mine = aging(as_of=AS_OF, accounts=[known_history["bravo"].pk])
    assert [r.name for r in mine.rows] == ["Bravo Ltd"]
    assert figures(mine.totals["GBP"]) == EXPECTED_ACCOUNTS["Bravo Ltd"]
    assert aging(as_of=AS_OF, accounts=[]).rows == []


def test_before_anything_was_issued_nothing_is_owed(known_history):
    assert aging(as_of=AS_OF.replace(month=1, day=9)).rows == []
    first = aging(as_of=AS_OF.replace(month=1, day=10))
    assert [(r.name, r.not_due.amount) for r in first.rows] == [("Alpha Ltd", D("100.00"))]


def test_what_each_invoice_owes_today_is_its_amount_due(known_history):
    owed = invoice_owed()
    invoices = list(Invoice.objects.all())
    assert len(invoices) == 15
    statuses = {i.status for i in invoices}
    assert {InvoiceStatus.CANCELLED, InvoiceStatus.DISPUTED, InvoiceStatus.PAID} <= statuses
    assert InvoiceStatus.PARTIALLY_PAID in statuses
    for invoice in invoices:
        expected = D(0) if invoice.status == InvoiceStatus.CANCELLED else invoice.amount_due.amount
        assert owed.get(invoice.pk, D(0)) == expected, invoice
    today = aging()
    by_name = {r.name: r.total.amount for r in today.rows}
    assert by_name == {"Alpha Ltd": D("335.00"), "Bravo Ltd": D("125.00"), "Echo GmbH": D("542.00")}


def test_money_received_on_an_earlier_day_pays_the_invoice_from_that_day(known_history):
    """The group payment was recorded with 28 June as its date received: its allocation
    carries that day, so the report as of 28 June already counts it (27 June not)."""
    inv1 = known_history["inv1"]
    allocation = PaymentAllocation.objects.get(invoice=inv1)
    assert allocation.created_at == at(6, 28, 12)
    owed = {d: invoice_owed(as_of=AS_OF.replace(day=d))[inv1.pk] for d in (27, 28)}
    assert owed == {27: D("100.00"), 28: D("60.00")}
    # Credit assigned today pays from today: inv9 still owed 300.00 on 30 June.
    inv9 = known_history["inv9"]
    assert PaymentAllocation.objects.get(invoice=inv9).created_at.date() == timezone.now().date()
    assert invoice_owed(as_of=AS_OF)[inv9.pk] == D("300.00")


def _accounts_with_invoices(make_account, make_invoice, n):
    for _ in range(n):
        account = make_account()
        for amount in ("10.00", "20.00"):
            make_invoice(account, amount, issue=True)


@pytest.mark.parametrize("by", ["account", "group"])
def test_one_query_whatever_the_number_of_accounts(by, make_account, make_invoice):
    counts = []
    for n in (3, 27):  # 3 accounts, then 30
        _accounts_with_invoices(make_account, make_invoice, n)
        with CaptureQueriesContext(connection) as queries:
            report = aging(by=by)
        counts.append(len(queries))
        rows = 1 if by == "group" else (3 if n == 3 else 30)
        assert len(report.rows) == rows
    assert counts == [1, 1]


@pytest.mark.parametrize("by", ["account", "group"])
def test_today_read_from_the_invoices_equals_today_read_from_the_history(known_history, by):
    """Today's report reads each invoice's ``amount_due``; the history gives the same."""
    from_invoices = aging(by=by)
    from_history = aging(by=by, history=True)
    assert from_invoices.rows == from_history.rows and from_invoices.rows
    assert from_invoices.totals == from_history.totals
    past = aging(as_of=AS_OF, by=by)  # a past day reads the history
    assert past.rows == aging(as_of=AS_OF, by=by, history=True).rows
    assert past.rows != aging(as_of=AS_OF, by=by, history=False).rows
