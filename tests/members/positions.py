"""An account with a whole position to show (issue 11), built through the services:
credit applied at issue, an overdue and a due invoice, two wallets with holds on two
ongoing invoices (one held only in part: its wallet had less than the invoice).

GBP: cash 15.00 received; invoice A 100.00 (due 5 days ago: 15.00 of credit paid at
issue, 85.00 owed, overdue); invoice B 40.00 (due in 10 days); wallet Alpha 300.00
holding 120.00 for ongoing invoice #1; wallet Beta 50.00 holding all of it for ongoing
invoice #2 (80.00). Balance -125.00, free credit 0.00, due 125.00, overdue 85.00,
wallets available 180.00.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from ledger import services as ledger
from ledger.models import Account, Invoice
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets

ACTOR = ledger.system_actor("tests")


@dataclass
class Position:
    account: Account
    late: Invoice
    soon: Invoice
    ongoing: tuple[Invoice, Invoice]


def _issued(account, amount, due_in_days):
    invoice = ledger.create_invoice(
        account=account,
        actor=ACTOR,
        lines=[LineSpec("Desk", "1", amount)],
        due_date=timezone.localdate() + timedelta(days=due_in_days),
    )
    return pay.issue_invoice(invoice=invoice, actor=ACTOR)


def _ongoing(account, quantity):
    invoice = ledger.create_invoice(
        account=account, actor=ACTOR, lines=[LineSpec("Meter units", quantity, "1.00")]
    )
    return ledger.open_invoice(invoice=invoice, actor=ACTOR)


def build_position(*, members=(), name="Position Ltd") -> Position:
    account = ledger.create_account(
        name=name, email="p@x.test", currency="GBP", actor=ACTOR, members=list(members)
    )
    pay.record_payment(account=account, amount="15.00", method="cash", actor=ACTOR)
    late = _issued(account, "100.00", -5)
    soon = _issued(account, "40.00", 10)
    alpha = wallets.create_wallet(account=account, name="Alpha", actor=ACTOR)
    beta = wallets.create_wallet(account=account, name="Beta", actor=ACTOR)
    wallets.top_up(wallet=alpha, amount="300.00", actor=ACTOR, grant=True)
    wallets.top_up(wallet=beta, amount="50.00", actor=ACTOR, grant=True)
    run_a, run_b = _ongoing(account, "120"), _ongoing(account, "80")
    pay.apply_wallet(wallet=alpha, invoice=run_a, actor=ACTOR)
    pay.apply_wallet(wallet=beta, invoice=run_b, actor=ACTOR)
    account.refresh_from_db()
    return Position(account, late, soon, (run_a, run_b))
