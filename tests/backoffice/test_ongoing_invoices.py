"""Ongoing invoices in the admin (issue 11): created as ongoing (or a draft opened as
ongoing), and every line change through the wallet-aware services, so the wallet hold
follows the invoice — up, down, and capped by what the wallet has available. Through
the admin's URLs on PostgreSQL with no wrapping transaction, and on SQLite."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ledger.models import Invoice
from payments import services as pay
from tests.composition.admin_pages import run_action, succeeded
from tests.payments.conftest import fresh
from wallets.models import Hold

from .conftest import text_of

D = Decimal
pytestmark = pytest.mark.django_db


def lines_form(invoice, rows, *, header=None):
    """The invoice change form as the browser posts it: header fields and the lines
    inline (``rows``: (line or None, description, quantity, unit price, delete))."""
    data = {
        "series": invoice.series,
        "description": invoice.description,
        "due_date": "",
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": str(sum(1 for r in rows if r[0] is not None)),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **(header or {}),
    }
    for i, (line, description, quantity, price, delete) in enumerate(rows):
        data.update(
            {
                f"lines-{i}-id": str(line.pk) if line else "",
                f"lines-{i}-invoice": str(invoice.pk),
                f"lines-{i}-description": description,
                f"lines-{i}-quantity": quantity,
                f"lines-{i}-unit_price": price,
            }
        )
        if delete:
            data[f"lines-{i}-DELETE"] = "on"
    return data


def held(wallet) -> tuple[Decimal, Decimal]:
    w = fresh(wallet)
    return w.held.amount, w.available.amount


def change(admin, invoice, rows):
    url = reverse("admin:ledger_invoice_change", args=[invoice.pk])
    return succeeded(admin, admin.post(url, lines_form(invoice, rows)))


def add_ongoing(admin, account, quantity="315"):
    data = {
        "account": account.pk,
        "series": "INV",
        "description": "Meeting rooms, December",
        "due_date": "",
        "ongoing": "on",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-description": "Room hours",
        "lines-0-quantity": quantity,
        "lines-0-unit_price": "1.00",
    }
    succeeded(admin, admin.post(reverse("admin:ledger_invoice_add"), data))
    return Invoice.objects.get(account=account, description="Meeting rooms, December")


def check_hold_follows(admin, account, make_wallet, actor):
    """The issue's case: 315 held, raised to 365, lowered to 335, then beyond what is
    available (400 with 380 in the wallet), then a line removed."""
    wallet = make_wallet(account, "Projects", "380.00")
    invoice = add_ongoing(admin, account)
    assert (invoice.status, invoice.total.amount) == ("ongoing", D("315.00"))
    data = {"wallet": wallet.pk, "amount": ""}
    run_action(admin, "ledger_invoice", invoice, "apply_wallet", data)
    assert held(wallet) == (D("315.00"), D("65.00"))
    line = invoice.lines.get()
    change(admin, invoice, [(line, "Room hours", "365", "1.00", False)])
    assert fresh(invoice).total.amount == D("365.00")
    assert held(wallet) == (D("365.00"), D("15.00"))  # up
    change(admin, invoice, [(line, "Room hours", "335", "1.00", False)])
    assert held(wallet) == (D("335.00"), D("45.00"))  # down
    change(
        admin,
        invoice,
        [(line, "Room hours", "335", "1.00", False), (None, "Catering", "65", "1.00", False)],
    )
    assert fresh(invoice).total.amount == D("400.00")
    assert held(wallet) == (D("380.00"), 0)  # beyond what is available: all of it, no more
    extra = invoice.lines.get(description="Catering")
    change(
        admin,
        invoice,
        [(line, "Room hours", "335", "1.00", False), (extra, "Catering", "65", "1.00", True)],
    )
    assert held(wallet) == (D("335.00"), D("45.00"))  # a line removed: the hold shrinks
    hold = Hold.objects.get(invoice=invoice, status="active")
    assert hold.amount.amount == D("335.00")
    history = admin.get(reverse("admin:ledger_invoice_history", args=[invoice.pk]))
    story = text_of(history)
    for words in [
        "Opened as ongoing",
        "Line changed: quantity 315 → 365; amount 315.00 → 365.00",
        "Line added: Catering, 65 × 1.00",
        "Line removed: Catering",
        "Wallet 'Projects': hold changed — Hold raised to £365.00",
    ]:
        assert words in story, words
    issued = pay.issue_invoice(invoice=invoice, actor=actor)
    assert (issued.amount_credited.amount, issued.amount_due.amount) == (D("335.00"), 0)


def test_hold_follows_admin_line_edits(admin, account, make_wallet, actor):
    check_hold_follows(admin, account, make_wallet, actor)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_hold_follows_admin_line_edits_on_postgresql(admin, account, make_wallet, actor):
    check_hold_follows(admin, account, make_wallet, actor)


def test_a_draft_opened_as_ongoing_from_its_page(admin, account, make_invoice):
    draft = make_invoice(account, "20.00")
    done = run_action(admin, "ledger_invoice", draft, "open_ongoing")
    assert fresh(draft).status == "ongoing"
    assert done.text() == [
        f"Ongoing invoice #{draft.pk} is open: its amount follows consumption until it is issued."
    ]


def test_the_add_form_offers_ongoing(admin):
    page = admin.get(reverse("admin:ledger_invoice_add") + "?ongoing=1")
    assert page.status_code == 200
    assert 'name="ongoing"' in page.content.decode() and "checked" in page.content.decode()
