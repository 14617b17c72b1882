"""The aged receivables CSV guards names against spreadsheet formulas, as the
statement's CSV does: a name starting with = + - @ gets a leading apostrophe."""

import csv

import pytest

from billing_site.receivables.report import csv_lines
from ledger import services as ledger
from payments import services as pay
from payments.selectors.aging import BY_ACCOUNT, BY_GROUP, aging


@pytest.mark.django_db
def test_a_formula_in_a_name_is_not_exported_as_one(actor):
    group = ledger.create_group(name="+Group", actor=actor)
    account = ledger.create_account(
        name="=HYPERLINK(1)", email="f@example.test", currency="GBP", actor=actor, group=group
    )
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[ledger.LineSpec("Desk", "1", "10.00")]
    )
    pay.issue_invoice(invoice=draft, actor=actor)
    by_account = list(csv.reader(csv_lines(aging(by=BY_ACCOUNT))))
    assert by_account[1][2:4] == ["'=HYPERLINK(1)", "'+Group"]
    by_group = list(csv.reader(csv_lines(aging(by=BY_GROUP))))
    assert by_group[1][2] == "'+Group"
