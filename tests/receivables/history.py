"""A known history of receivables, built through the services with fixed timestamps,
and the aging it must give at the end of 30 June 2026 (``AS_OF``).

GBP, group *Acme*: Alpha and Bravo; Charlie in no group. EUR: Echo (one invoice at
each bucket boundary). Every figure in ``EXPECTED`` is worked out by hand in the
comments below."""

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from ledger import services as ledger
from ledger.models import Invoice
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets

D = Decimal
AS_OF = date(2026, 6, 30)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(date(2026, month, day), time(hour)))


def _issue(actor, account, amount, when, due, description=""):
    draft = ledger.create_invoice(
        account=account,
        actor=actor,
        lines=[LineSpec(description or f"Services {amount}", "1", amount)],
        description=description,
    )
    return pay.issue_invoice(invoice=draft, actor=actor, at=when, due_date=due)


def _paid_payment(invoice) -> Payment:
    return Payment.objects.filter(invoice=invoice, status="completed").latest("pk")


def build(actor) -> dict:
    """Build the history; return the accounts, the group and the invoices by name."""
    acme = ledger.create_group(name="Acme", actor=actor)
    made = {"acme": acme}
    for key, name, currency, group in (
        ("alpha", "Alpha Ltd", "GBP", acme),
        ("bravo", "Bravo Ltd", "GBP", acme),
        ("charlie", "Charlie Ltd", "GBP", None),
        ("echo", "Echo GmbH", "EUR", None),
    ):
        made[key] = ledger.create_account(
            name=name, email=f"{key}@example.test", currency=currency, actor=actor, group=group
        )
    _alpha(actor, made)
    _bravo(actor, made)
    _charlie(actor, made)
    _echo(actor, made)
    # After 30 June: Alpha's group payment, a new invoice; Charlie's overpayment, credit
    # assigned today. None of it may change the report as of 30 June.
    pay.record_group_payment(
        group=acme,
        amount="40.00",
        method="bank_transfer",
        actor=actor,
        leftover_account=made["alpha"],
        at=at(6, 28, 12),  # "date received" 28 June, posted at noon that day
    )
    made["inv14"] = _issue(actor, made["alpha"], "45.00", at(7, 2), date(2026, 7, 16))
    pay.mark_invoice_paid(
        invoice=made["inv8"], method="bank_transfer", amount="100.00", actor=actor, at=at(7, 5)
    )
    pay.assign_payment(payment=made["credit300"], allocations=[(made["inv9"], None)], actor=actor)
    return made


def _alpha(actor, made):
    a = made["alpha"]
    # inv1 100.00 due 9 Feb: 141 days late on 30 June; the group payment of 28 June
    # pays 40.00 of it (oldest due first in the group) -> 60.00 over 90 days.
    made["inv1"] = _issue(actor, a, "100.00", at(1, 10), date(2026, 2, 9))
    # inv2 200.00 due 15 April (76 days): 50.00 paid on 1 May -> 150.00 in 61-90.
    made["inv2"] = _issue(actor, a, "200.00", at(4, 1), date(2026, 4, 15))
    pay.mark_invoice_paid(
        invoice=made["inv2"], method="cheque", amount="50.00", actor=actor, at=at(5, 1)
    )
    # inv3 80.00 due 20 May (41 days): paid in full, then disputed on 10 June -> owed
    # 80.00 again, in 31-60.
    made["inv3"] = _issue(actor, a, "80.00", at(5, 10), date(2026, 5, 20))
    paid = pay.mark_invoice_paid(invoice=made["inv3"], method="card", actor=actor, at=at(5, 15))
    pay.record_dispute(payment=paid, actor=actor, reason="chargeback", at=at(6, 10))


def _bravo(actor, made):
    b = made["bravo"]
    # inv6 50.00: paid, then 20.00 refunded -> owes nothing.
    made["inv6"] = _issue(actor, b, "50.00", at(2, 1), date(2026, 2, 15))
    pay.mark_invoice_paid(invoice=made["inv6"], method="bank_transfer", actor=actor, at=at(3, 1))
    pay.refund_invoice(invoice=made["inv6"], amount="20.00", actor=actor, at=at(4, 1))
    # 30.00 of credit, applied when inv4 (120.00, due 20 June: 10 days) is issued
    # -> 90.00 in 1-30.
    pay.record_payment(account=b, amount="30.00", method="cash", actor=actor, at=at(5, 31))
    made["inv4"] = _issue(actor, b, "120.00", at(6, 5), date(2026, 6, 20))
    # inv5 60.00 due 10 July, 25.00 prepaid from a wallet (credit memo) -> 35.00 not due.
    made["inv5"] = _issue(actor, b, "60.00", at(6, 10), date(2026, 7, 10))
    wallet = wallets.create_wallet(account=b, name="Prepaid", actor=actor)
    wallets.top_up(wallet=wallet, amount="25.00", actor=actor, grant=True, at=at(6, 11))
    pay.apply_wallet(wallet=wallet, invoice=made["inv5"], actor=actor, amount="25.00", at=at(6, 12))


def _charlie(actor, made):
    c = made["charlie"]
    # inv7 40.00 cancelled -> owes nothing.
    made["inv7"] = _issue(actor, c, "40.00", at(3, 1), date(2026, 3, 15))
    pay.cancel_invoice(invoice=made["inv7"], actor=actor, reason="duplicate", at=at(3, 5))
    # inv8 70.00 due 10 June (20 days) -> 70.00 in 1-30 (overpaid on 5 July).
    made["inv8"] = _issue(actor, c, "70.00", at(6, 1), date(2026, 6, 10))
    # inv9 300.00 due 4 July; 300.00 received on 25 June as credit, assigned to it only
    # today -> 300.00 not due on 30 June (an invoice is paid when money is applied to it).
    made["inv9"] = _issue(actor, c, "300.00", at(6, 20), date(2026, 7, 4))
    made["credit300"] = pay.record_payment(
        account=c, amount="300.00", method="bank_transfer", actor=actor, at=at(6, 25, 12)
    )


def _echo(actor, made):
    e = made["echo"]
    # One invoice per boundary: 91 days late (over 90), 90 (61-90), 60 (31-60),
    # 30 (1-30), 0 (not due: due on the day itself).
    for name, amount, when, due in (
        ("inv10", "10.00", at(3, 1), date(2026, 3, 31)),
        ("inv11", "20.00", at(3, 2), date(2026, 4, 1)),
        ("inv12", "7.00", at(3, 3), date(2026, 5, 1)),
        ("inv13", "5.00", at(3, 4), date(2026, 5, 31)),
        ("inv15", "500.00", at(6, 1), date(2026, 6, 30)),
    ):
        made[name] = _issue(actor, e, amount, when, due)


def m(*figures):
    """(not due, 1-30, 31-60, 61-90, over 90, total) as Decimals."""
    return tuple(D(f) for f in figures)


EXPECTED_ACCOUNTS = {
    "Alpha Ltd": m("0.00", "0.00", "80.00", "150.00", "60.00", "290.00"),
    "Bravo Ltd": m("35.00", "90.00", "0.00", "0.00", "0.00", "125.00"),
    "Charlie Ltd": m("300.00", "70.00", "0.00", "0.00", "0.00", "370.00"),
    "Echo GmbH": m("500.00", "5.00", "7.00", "20.00", "10.00", "542.00"),
}
EXPECTED_GROUPS = {
    ("Acme", "GBP"): m("35.00", "90.00", "80.00", "150.00", "60.00", "415.00"),
    ("No group", "GBP"): m("300.00", "70.00", "0.00", "0.00", "0.00", "370.00"),
    ("No group", "EUR"): m("500.00", "5.00", "7.00", "20.00", "10.00", "542.00"),
}
EXPECTED_TOTALS = {
    "GBP": m("335.00", "160.00", "80.00", "150.00", "60.00", "785.00"),
    "EUR": m("500.00", "5.00", "7.00", "20.00", "10.00", "542.00"),
}
BUCKET_ORDER = ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90", "total")


def figures(row) -> tuple:
    return tuple(row.bucket(b).amount for b in BUCKET_ORDER)


def invoices_of(made) -> list[Invoice]:
    return list(Invoice.objects.filter(account__in=[made[k] for k in ("alpha", "bravo")]))
