"""Invoices in the ledger (SPEC section 4): numbering, issue, cancel, lines, refusals."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from moneyed import Money

from ledger import services
from ledger.errors import CurrencyMismatch, InvalidAmount, InvalidInput, StateConflict
from ledger.models import Account, Invoice, InvoiceCounter, InvoiceLine, LedgerEntry
from ledger.services import LineSpec

pytestmark = pytest.mark.django_db


def snapshot(account):
    account = Account.objects.get(pk=account.pk)
    return {
        "entries": LedgerEntry.objects.count(),
        "invoices": Invoice.objects.count(),
        "lines": InvoiceLine.objects.count(),
        "balance": account.balance,
        "last_seq": account.last_seq,
        "counters": list(InvoiceCounter.objects.values_list("series", "last_value")),
    }


def invoice_state(invoice):
    invoice = Invoice.objects.get(pk=invoice.pk)
    return (invoice.status, invoice.number, invoice.total, list(invoice.lines.values_list()))


class Rollback(Exception):
    pass


# --- numbering ----------------------------------------------------------------------


def test_numbers_are_sequential_and_gapless_per_series(account, make_invoice, actor):
    first = make_invoice(account, "10.00", issue=True)
    draft = make_invoice(account, "11.00")  # not issued: no number
    second = make_invoice(account, "12.00", issue=True)
    credit_note = make_invoice(account, "5.00", series="cn", issue=True)
    third = make_invoice(account, "13.00", issue=True)
    assert draft.number is None and draft.seq_no is None
    assert [first.number, second.number, third.number] == ["INV-000001", "INV-000002", "INV-000003"]
    assert [first.seq_no, second.seq_no, third.seq_no] == [1, 2, 3]
    assert credit_note.number == "CN-000001"
    issued = services.post_invoice(invoice=draft, actor=actor)[0]
    assert issued.number == "INV-000004"


def test_rolled_back_issue_gives_its_number_back(account, make_invoice, actor):
    make_invoice(account, "10.00", issue=True)
    doomed = make_invoice(account, "20.00")
    before = snapshot(account)
    with pytest.raises(Rollback), transaction.atomic():
        issued, entries = services.post_invoice(invoice=doomed, actor=actor)
        assert issued.number == "INV-000002"
        assert len(entries) == 1
        raise Rollback("a later step of the use case failed")
    assert snapshot(account) == before
    doomed.refresh_from_db()
    assert doomed.status == "draft" and doomed.number is None
    nxt = make_invoice(account, "30.00", issue=True)
    assert nxt.number == "INV-000002"
    assert services.post_invoice(invoice=doomed, actor=actor)[0].number == "INV-000003"


def test_bad_series_refused(account, actor):
    with pytest.raises(InvalidInput) as exc:
        services.create_invoice(account=account, actor=actor, series="IN-V")
    assert exc.value.field == "series"
    assert Invoice.objects.count() == 0


# --- issue and cancel on the ledger ---------------------------------------------------


def test_issue_posts_one_invc_debit(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00", "25.50", description="March")
    issued, entries = services.post_invoice(invoice=invoice, actor=actor)
    assert issued.status == "due"
    assert issued.total == Money("100.50", "GBP")
    [entry] = LedgerEntry.objects.filter(account=account)
    assert [e.pk for e in entries] == [entry.pk]
    assert entry.kind == "INVC"
    assert entry.reference == f"INVC-{issued.number}" == "INVC-INV-000001"
    assert entry.invoice_id == issued.pk
    assert entry.debit == Money("100.50", "GBP") and entry.credit.amount == 0
    assert entry.balance_after == Money("-100.50", "GBP")
    assert "INV-000001" in entry.description and "March" in entry.description
    account.refresh_from_db()
    assert account.balance == Money("-100.50", "GBP")
    assert issued.amount_due == Money("100.50", "GBP")


def test_issue_from_ongoing(account, make_invoice, actor):
    invoice = make_invoice(account, "10.00")
    opened = services.open_invoice(invoice=invoice, actor=actor)
    assert opened.status == "ongoing" and opened.number is None
    issued, _ = services.post_invoice(invoice=invoice.pk, actor=actor)
    assert issued.status == "due" and issued.number == "INV-000001"


def test_due_date_defaults_to_issue_date_plus_payment_terms(make_account, make_invoice, actor):
    account = make_account(payment_terms_days=30)
    at = timezone.make_aware(datetime(2025, 1, 20, 10, 0))
    invoice, _ = services.post_invoice(invoice=make_invoice(account, "10.00"), actor=actor, at=at)
    assert invoice.issue_date == date(2025, 1, 20)
    assert invoice.due_date == date(2025, 2, 19)
    assert invoice.issued_at == at
    assert LedgerEntry.objects.get(invoice=invoice).posted_at == at


def test_explicit_due_dates_are_kept(account, make_invoice, actor):
    preset = make_invoice(account, "10.00", due_date=date(2031, 1, 1))
    preset, _ = services.post_invoice(invoice=preset, actor=actor)
    assert preset.due_date == date(2031, 1, 1)
    given = make_invoice(account, "10.00")
    given, _ = services.post_invoice(invoice=given, actor=actor, due_date=date(2032, 2, 2))
    assert given.due_date == date(2032, 2, 2)
    default = services.post_invoice(invoice=make_invoice(account, "1.00"), actor=actor)[0]
    assert default.due_date == default.issue_date + timedelta(days=14)


def test_cancel_due_invoice_posts_negative_debit(account, make_invoice, actor):
    services.post(
        account=account,
        postings=[services.Posting(kind="PAYM", amount="20.00", reference="PAYM-1")],
        actor=actor,
    )
    invoice = make_invoice(account, "75.00", issue=True)
    account.refresh_from_db()
    assert account.balance == Money("-55.00", "GBP")
    cancelled, entries = services.void_invoice(invoice=invoice, actor=actor, reason="duplicate")
    assert cancelled.status == "cancelled"
    assert cancelled.number == "INV-000001"  # the number stays used
    assert cancelled.cancel_reason == "duplicate" and cancelled.cancelled_at is not None
    [entry] = entries
    entry = LedgerEntry.objects.get(pk=entry.pk)
    assert entry.kind == "INVC" and entry.seq == 3
    assert entry.debit == Money("-75.00", "GBP") and entry.credit.amount == 0
    assert entry.reference == "INVC-INV-000001" and entry.invoice_id == invoice.pk
    assert "cancelled" in entry.description and "duplicate" in entry.description
    account.refresh_from_db()
    assert account.balance == Money("20.00", "GBP") == entry.balance_after
    invc = LedgerEntry.objects.filter(invoice=invoice).values_list("debit", flat=True)
    assert sum(invc, Decimal(0)) == 0


@pytest.mark.parametrize("opened", [False, True])
def test_cancel_unposted_invoice_posts_nothing(account, make_invoice, actor, opened):
    invoice = make_invoice(account, "75.00")
    if opened:
        services.open_invoice(invoice=invoice, actor=actor)
    cancelled, entries = services.void_invoice(invoice=invoice, actor=actor)
    assert entries == []
    assert cancelled.status == "cancelled" and cancelled.number is None
    assert LedgerEntry.objects.count() == 0
    account.refresh_from_db()
    assert account.balance == Money(0, "GBP") and account.last_seq == 0
    # The next issued invoice still starts the series at 1.
    assert make_invoice(account, "1.00", issue=True).number == "INV-000001"


# --- lines and consumption -------------------------------------------------------------


def test_ongoing_invoice_follows_consumption(account, actor):
    invoice = services.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Desk rental", "1", "100.00")]
    )
    services.open_invoice(invoice=invoice, actor=actor)
    meter = services.add_line(
        invoice=invoice, line=LineSpec("Printing (pages)", "0", "0.05"), actor=actor
    )
    invoice.refresh_from_db()
    assert invoice.total == Money("100.00", "GBP")
    services.update_line(line=meter, quantity="120", actor=actor)
    invoice.refresh_from_db()
    assert invoice.total == Money("106.00", "GBP")
    services.update_line(line=meter.pk, quantity="333", actor=actor)
    meter.refresh_from_db()
    assert meter.amount == Money("16.65", "GBP") and meter.position == 1
    services.update_line(line=meter, unit_price="0.10", description="Printing", actor=actor)
    meter.refresh_from_db()
    assert meter.amount == Money("33.30", "GBP") and meter.description == "Printing"
    invoice.refresh_from_db()
    assert invoice.total == Money("133.30", "GBP")
    desk = invoice.lines.get(position=0)
    services.remove_line(line=desk, actor=actor)
    invoice.refresh_from_db()
    assert invoice.total == Money("33.30", "GBP")
    assert LedgerEntry.objects.count() == 0  # nothing posted before issue
    issued, _ = services.post_invoice(invoice=invoice, actor=actor)
    assert LedgerEntry.objects.get(invoice=issued).debit == Money("33.30", "GBP")


@pytest.mark.parametrize(
    ("currency", "quantity", "price", "expected"),
    [
        ("GBP", "0.3333", "10.00", "3.33"),
        ("GBP", "2.5", "0.01", "0.03"),  # 0.025 -> half-up
        ("GBP", "1.5", "0.01", "0.02"),  # 0.015 -> half-up
        ("GBP", "3", "19.99", "59.97"),
        ("GBP", "0", "19.99", "0.00"),
        ("JPY", "2.5", "1", "3"),  # banker's rounding would give 2
        ("JPY", "0.3333", "1000", "333"),
        ("KWD", "0.5", "0.001", "0.001"),
        ("KWD", "1.2345", "1.000", "1.235"),
    ],
)
def test_line_amount_is_quantity_times_price_rounded_half_up(
    make_account, actor, currency, quantity, price, expected
):
    account = make_account(currency)
    invoice = services.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Item", quantity, price)]
    )
    line = invoice.lines.get()
    assert line.amount == Money(expected, currency)
    assert line.quantity == Decimal(quantity)
    invoice.refresh_from_db()
    assert invoice.total == Money(expected, currency)
    assert invoice.currency == currency


def test_issued_invoice_lines_are_frozen(account, make_invoice, actor):
    invoice = make_invoice(account, "10.00", issue=True)
    line = invoice.lines.get()
    before = (snapshot(account), invoice_state(invoice))
    for call in (
        lambda: services.update_line(line=line, quantity="2", actor=actor),
        lambda: services.add_line(invoice=invoice, line=LineSpec("x", "1", "1.00"), actor=actor),
        lambda: services.remove_line(line=line, actor=actor),
    ):
        with pytest.raises(StateConflict) as exc:
            call()
        assert exc.value.http_status == 409 and exc.value.field == "status"
        assert "INV-000001 is due" in exc.value.detail
    assert (snapshot(account), invoice_state(invoice)) == before


# --- refusals: clear message, right status, nothing changed -----------------------------


@pytest.mark.parametrize(
    ("currency", "price"), [("GBP", "10.001"), ("JPY", "10.5"), ("KWD", "1.0001")]
)
def test_line_price_with_extra_precision_refused(make_account, actor, currency, price):
    account = make_account(currency)
    before = snapshot(account)
    with pytest.raises(InvalidAmount) as exc:
        services.create_invoice(
            account=account,
            actor=actor,
            lines=[LineSpec("ok", "1", "1"), LineSpec("Item", "1", price)],
        )
    err = exc.value
    assert err.field == "lines[1].unit_price"
    assert err.detail.startswith("lines[1].unit_price:")
    assert "more decimal places" in err.detail and currency in err.detail
    assert err.http_status == 422
    assert snapshot(account) == before


def test_kwd_three_places_accepted(make_account, actor):
    account = make_account("KWD")
    invoice = services.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Item", "1", "1.001")]
    )
    issued, _ = services.post_invoice(invoice=invoice, actor=actor)
    account.refresh_from_db()
    assert issued.total == Money("1.001", "KWD")
    assert account.balance == Money("-1.001", "KWD")


@pytest.mark.parametrize(
    ("quantity", "price", "field", "words"),
    [
        ("1", 10.5, "lines[0].unit_price", "float"),
        (1.5, "10.00", "lines[0].quantity", "float"),
    ],
)
def test_float_line_values_refused(account, actor, quantity, price, field, words):
    before = snapshot(account)
    with pytest.raises(InvalidAmount) as exc:
        services.create_invoice(
            account=account, actor=actor, lines=[LineSpec("Item", quantity, price)]
        )
    assert exc.value.field == field and words in exc.value.detail
    assert snapshot(account) == before


def test_price_in_another_currency_refused(account, actor):
    before = snapshot(account)
    with pytest.raises(CurrencyMismatch) as exc:
        services.create_invoice(
            account=account, actor=actor, lines=[LineSpec("Item", "1", Money("10.00", "EUR"))]
        )
    err = exc.value
    assert err.field == "lines[0].unit_price" and err.http_status == 422
    assert "EUR" in err.detail and "GBP" in err.detail
    assert snapshot(account) == before


def test_add_line_in_another_currency_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "10.00")
    before = (snapshot(account), invoice_state(invoice))
    with pytest.raises(CurrencyMismatch) as exc:
        services.add_line(
            invoice=invoice, line=LineSpec("Item", "1", Money("1.00", "EUR")), actor=actor
        )
    assert exc.value.field == "line.unit_price"
    assert (snapshot(account), invoice_state(invoice)) == before


@pytest.mark.parametrize(
    ("quantity", "price", "field", "words"),
    [
        ("-1", "10.00", "lines[0].quantity", "quantity cannot be negative"),
        ("1", "-10.00", "lines[0].unit_price", "unit price cannot be negative"),
        ("1.00001", "10.00", "lines[0].quantity", "at most 4 decimal places"),
        ("abc", "10.00", "lines[0].quantity", "not a decimal number"),
    ],
)
def test_bad_line_values_refused(account, actor, quantity, price, field, words):
    before = snapshot(account)
    with pytest.raises(InvalidInput) as exc:
        services.create_invoice(
            account=account, actor=actor, lines=[LineSpec("Item", quantity, price)]
        )
    err = exc.value
    assert err.field == field and err.http_status == 422
    assert err.detail.startswith(f"{field}:") and words in err.detail
    assert snapshot(account) == before


def test_update_line_to_negative_quantity_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "10.00")
    line = invoice.lines.get()
    before = (snapshot(account), invoice_state(invoice))
    with pytest.raises(InvalidInput) as exc:
        services.update_line(line=line, quantity="-2", actor=actor)
    assert exc.value.field == "line.quantity" and "negative" in exc.value.detail
    assert (snapshot(account), invoice_state(invoice)) == before


def test_issuing_a_zero_total_invoice_refused(account, actor):
    empty = services.create_invoice(account=account, actor=actor)
    free = services.create_invoice(account=account, actor=actor, lines=[LineSpec("x", "0", "5")])
    for invoice in (empty, free):
        before = (snapshot(account), invoice_state(invoice))
        with pytest.raises(InvalidInput) as exc:
            services.post_invoice(invoice=invoice, actor=actor)
        err = exc.value
        assert err.field == "lines" and err.http_status == 422
        assert "nothing to charge" in err.detail and "£0.00" in err.detail
        assert (snapshot(account), invoice_state(invoice)) == before


def test_cancelling_a_cancelled_invoice_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00", issue=True)
    services.void_invoice(invoice=invoice, actor=actor)
    before = (snapshot(account), invoice_state(invoice))
    with pytest.raises(StateConflict) as exc:
        services.void_invoice(invoice=invoice, actor=actor)
    err = exc.value
    assert err.http_status == 409 and err.field == "status"
    assert "INV-000001 is cancelled" in err.detail
    assert (snapshot(account), invoice_state(invoice)) == before


def test_issuing_or_opening_a_cancelled_invoice_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00")
    services.void_invoice(invoice=invoice, actor=actor)
    before = (snapshot(account), invoice_state(invoice))
    for call in (services.post_invoice, services.open_invoice):
        with pytest.raises(StateConflict) as exc:
            call(invoice=invoice, actor=actor)
        assert exc.value.http_status == 409 and exc.value.field == "status"
        assert "is cancelled" in exc.value.detail
    assert (snapshot(account), invoice_state(invoice)) == before


def test_issuing_twice_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00", issue=True)
    before = (snapshot(account), invoice_state(invoice))
    with pytest.raises(StateConflict) as exc:
        services.post_invoice(invoice=invoice, actor=actor)
    assert "INV-000001 is due" in exc.value.detail
    assert (snapshot(account), invoice_state(invoice)) == before


def test_cancelling_an_invoice_with_money_paid_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00", issue=True)
    # As the payments app records a payment on the invoice.
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=Money("10.00", "GBP"))
    before = (snapshot(account), invoice_state(invoice))
    with pytest.raises(StateConflict) as exc:
        services.void_invoice(invoice=invoice, actor=actor)
    err = exc.value
    assert err.http_status == 409 and err.field == "status"
    assert "INV-000001 cannot be cancelled" in err.detail and "paid" in err.detail
    assert "refund" in err.detail
    assert (snapshot(account), invoice_state(invoice)) == before
    assert Invoice.objects.get(pk=invoice.pk).status == "due"


def test_cancelling_an_invoice_with_wallet_money_applied_refused(account, make_invoice, actor):
    invoice = make_invoice(account, "75.00", issue=True)
    Invoice.objects.filter(pk=invoice.pk).update(amount_credited=Money("5.00", "GBP"))
    before = (snapshot(account), invoice_state(invoice))
    with pytest.raises(StateConflict) as exc:
        services.void_invoice(invoice=invoice, actor=actor)
    assert "wallet prepayment" in exc.value.detail and exc.value.http_status == 409
    assert (snapshot(account), invoice_state(invoice)) == before
