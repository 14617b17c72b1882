"""A small world for the dunning tests, built through the services: three levels (three
days before the due date, seven and thirty days after it) and issued invoices."""

from datetime import date

import pytest

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Reminder
from payments.services import dunning
from tests.api.conftest import api, make_key  # noqa: F401 - the API suite's key fixtures

ACTOR = ledger.system_actor("dunning-tests")
START = date(2027, 3, 1)  # the simulated month's first day

LEVELS = (
    ("Friendly note", -3, "Invoice {invoice_number} is due on {due_date}"),
    ("First reminder", 7, "Invoice {invoice_number}: {amount_due} is {days_overdue} days late"),
    ("Final notice", 30, "Final notice: invoice {invoice_number}"),
)
BODY = (
    "Hello {member_name},\n\ninvoice {invoice_number} owes {amount_due} (due {due_date}).\n"
    "Pay it here: {pay_link}\n"
)


def make_levels():
    return [
        dunning.save_level(name=name, offset_days=days, subject=subject, body=BODY, actor=ACTOR)
        for name, days, subject in LEVELS
    ]


@pytest.fixture
def levels(db):
    return make_levels()


def account(name: str):
    return ledger.create_account(
        name=name, email=f"{name.split()[0].lower()}@example.test", currency="GBP", actor=ACTOR
    )


def issued(acct, amount="100.00", *, due: date):
    draft = ledger.create_invoice(account=acct, actor=ACTOR, lines=[LineSpec("Desk", "1", amount)])
    return pay.issue_invoice(invoice=draft, actor=ACTOR, due_date=due)


def rows(**filters) -> list[tuple[str, str, str]]:
    """(invoice number, level name, status) of every reminder, in a stable order."""
    found = Reminder.objects.filter(**filters).select_related("invoice", "level")
    return sorted((r.invoice.number, r.level.name, r.status) for r in found)
