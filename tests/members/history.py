"""A known account history for the member-page tests (client and browser), built only
through the services, with the running balance of every entry worked out here by hand
(not read back from the database), so a page can be checked against it.

GBP account, balance = credits - debits:

  5 Jan 2026  PAYM  +100.00   money received on the account          100.00
  6-30 Jan    30 x (INVC 7.00, PAYM 3.00) usage and part payments    ... -20.00
  3 Feb       INVC  150.00    invoice 1 (120.00 + 30.00)             -170.00
  20 Feb      PAYM  +150.00   invoice 1 marked paid                   -20.00
  2 Mar       INVC  80.00     invoice 2 (50.00 + 30.00)              -100.00
  5 Mar       CRMO  +30.00    wallet "Projects" prepays invoice 2     -70.00
  15 Mar      PAYM  +20.00    invoice 2 part-paid                     -50.00

66 entries; invoice 2 is partially paid (due 30.00) and its waiting payment has a
receipt sent; the wallet got a 50.00 grant, 30.00 drawn for invoice 2 and a 5.00 usage
drawdown (total 50.00, consumed 35.00, held 0.00, available 15.00).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from moneyed import Money

from ledger import services as ledger
from ledger.models import Account, Invoice
from ledger.services import LineSpec, Posting
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import Wallet

D = Decimal


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Row:
    day: date
    reference: str  # as stored (the API's entries carry it)
    debit: Decimal
    credit: Decimal
    balance: Decimal
    kind: str = ""

    @property
    def shown(self) -> str:
        """The reference as the statement page and PDF show it: the entry's kind, then
        the document number (``ledger.selectors.entry_reference``): the payment marked
        against invoice 1 reads ``PAYM-INV-…``."""
        number = self.reference
        for prefix in ("INVC-", "PAYM-", "CRED-", "CRMO-"):
            if number.startswith(prefix):
                number = number[len(prefix) :]
                break
        return f"{self.kind}-{number}"


@dataclass
class History:
    account: Account
    invoice_paid: Invoice
    invoice_part: Invoice
    wallet: Wallet
    receipt: Payment
    rows: list[Row] = field(default_factory=list)  # oldest first

    @property
    def closing(self) -> Decimal:
        return self.rows[-1].balance

    def in_period(self, start: date, end: date) -> list[Row]:
        return [r for r in self.rows if start <= r.day <= end]

    def opening_of(self, start: date) -> Decimal:
        before = [r for r in self.rows if r.day < start]
        return before[-1].balance if before else D(0)


def gbp(value: str) -> Money:
    return Money(D(value), "GBP")


def build_history(*, members=(), name="Known History Ltd", ref="CRM-2041") -> History:
    actor = ledger.system_actor("tests")
    account = ledger.create_account(
        name=name,
        email="accounts@known-history.test",
        currency="GBP",
        actor=actor,
        external_ref=ref,
        members=list(members),
    )
    rows: list[Row] = []
    balance = D(0)

    def add(day, reference, debit="0", credit="0", kind=None):
        nonlocal balance
        balance = balance - D(debit) + D(credit)
        kind = kind or ("INVC" if D(debit) else "PAYM")
        rows.append(Row(day, reference, D(debit), D(credit), balance, kind))

    day = date(2026, 1, 5)
    received = pay.record_payment(
        account=account, amount="100.00", method="bank_transfer", actor=actor, at=at(day)
    )
    add(day, received.reference_code, credit="100.00")

    for i in range(30):
        day = date(2026, 1, 6) + timedelta(days=i * 24 // 30)
        ledger.post(
            account=account,
            postings=[
                Posting(kind="INVC", amount=gbp("7.00"), reference=f"USE-{i + 1:02d}"),
                Posting(
                    kind="PAYM",
                    amount=gbp("3.00"),
                    reference=f"PART-{i + 1:02d}",
                    method="card",
                    description=f"Part payment {i + 1}",
                ),
            ],
            actor=actor,
            at=at(day, 10),
        )
        add(day, f"USE-{i + 1:02d}", debit="7.00")
        add(day, f"PART-{i + 1:02d}", credit="3.00")

    day = date(2026, 2, 3)
    draft = ledger.create_invoice(
        account=account,
        actor=actor,
        lines=[LineSpec("Private office", "1", "120.00"), LineSpec("Printing", "300", "0.10")],
        description="February 2026",
    )
    invoice_paid = pay.issue_invoice(invoice=draft, actor=actor, at=at(day), due_date=day)
    add(day, invoice_paid.reference, debit="150.00")

    day = date(2026, 2, 20)
    pay.mark_invoice_paid(
        invoice=invoice_paid, method="bank_transfer", actor=actor, reference="BT-1", at=at(day)
    )
    add(day, invoice_paid.reference, credit="150.00")

    day = date(2026, 3, 2)
    draft = ledger.create_invoice(
        account=account,
        actor=actor,
        lines=[LineSpec("Hot desk", "1", "50.00"), LineSpec("Meeting room", "2", "15.00")],
        description="March 2026",
    )
    invoice_part = pay.issue_invoice(
        invoice=draft, actor=actor, at=at(day), due_date=date(2026, 3, 16)
    )
    add(day, invoice_part.reference, debit="80.00")

    wallet = wallets.create_wallet(account=account, name="Projects", actor=actor)
    wallets.top_up(
        wallet=wallet,
        amount="50.00",
        actor=actor,
        grant=True,
        reference="welcome",
        at=at(date(2026, 3, 4)),
    )
    day = date(2026, 3, 5)
    memos = pay.apply_wallet(
        wallet=wallet, invoice=invoice_part, actor=actor, amount="30.00", at=at(day)
    )
    for memo in memos:
        add(day, memo.reference, credit=str(memo.amount.amount), kind="CRMO")
    wallets.usage_drawdown(
        wallet=wallet,
        amount="5.00",
        reference="meter-1",
        actor=ledger.system_actor("meter"),
        description="Room booking",
        at=at(date(2026, 3, 10)),
    )

    day = date(2026, 3, 15)
    pay.mark_invoice_paid(
        invoice=invoice_part,
        method="bank_transfer",
        amount="20.00",
        actor=actor,
        reference="BT-2",
        at=at(day),
    )
    add(day, invoice_part.reference, credit="20.00")

    waiting = Payment.objects.get(invoice=invoice_part, status="waiting_for_payment")
    pay.create_receipt(payment=waiting, actor=actor, method="bank_transfer")
    receipt = pay.send_receipt(payment=waiting, actor=actor)

    invoice_part.refresh_from_db()
    invoice_paid.refresh_from_db()
    wallet.refresh_from_db()
    account.refresh_from_db()
    assert account.balance.amount == balance, (account.balance, balance)
    return History(account, invoice_paid, invoice_part, wallet, receipt, rows)
