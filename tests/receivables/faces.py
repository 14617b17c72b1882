"""Reading the receivables' faces back as figures: the admin report page, its CSV and
PDF, the overview's cards and the lists they link to; and a few rows for the
overview's other figures (money received this month, a stuck and a fresh gateway
payment, an invoice pending ERP approval, a low wallet, a hold)."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets

from .history import AS_OF, BUCKET_ORDER

D = Decimal
AGING = "/admin/receivables/aging/"


def page_totals(response) -> dict[str, tuple]:
    """The totals row of each currency on the report page, from its cells' amounts."""
    html = response.content.decode()
    found = {}
    for currency, row in re.findall(r'data-total="([A-Z]{3})">(.*?)</tr>', html, flags=re.S):
        found[currency] = tuple(D(a) for a in re.findall(r'data-amount="([-0-9.]+)"', row))
    return found


def page_rows(response) -> dict[str, tuple]:
    return {
        (row.name if row.account_id or row.group_id else (row.name, row.currency)): tuple(
            row.bucket(b).amount for b in BUCKET_ORDER
        )
        for row, _url in response.context["rows"]
    }


def csv_content(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def csv_figures(row: dict) -> tuple:
    return tuple(D(row[b]) for b in BUCKET_ORDER)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(page.extract_text() for page in reader.pages)


def report(client, **params):
    params.setdefault("as_of", AS_OF.isoformat())
    return client.get(AGING, params)


def figure_cards(response) -> dict[str, list]:
    """The overview's cards per currency (``Card`` objects) from the index context."""
    overview = response.context["finance_overview"]
    if not overview:
        return {}
    return {c["currency"]: c["cards"] for c in overview["currencies"]}


def listed(client, url) -> tuple[int, Decimal, str]:
    """(rows, summed amount, model) of the admin list at ``url``: invoices sum what they
    owe, payments their amount, wallets what the figure names (available or held)."""
    response = client.get(url)
    assert response.status_code == 200, url
    rows = list(response.context_data["cl"].queryset)
    model = response.context_data["cl"].model._meta.model_name
    if model == "invoice":
        total = sum((r.amount_due.amount for r in rows), D(0))
    elif model == "payment":
        total = sum((r.amount.amount for r in rows), D(0))
    elif "holding=1" in url:
        total = sum((r.held.amount for r in rows), D(0))
    else:
        total = sum((r.available.amount for r in rows), D(0))
    return len(rows), total, model


def add_overview_rows(actor, made, monkeypatch) -> dict:
    """Rows behind every other figure of the overview, made now (this month)."""
    extra = {}
    # Money received this month: 12.34 cash (credit) and 5.00 by bank transfer, 1.00 of
    # which refunded (an outgoing payment: not netted from what was received).
    pay.record_payment(account=made["charlie"], amount="12.34", method="cash", actor=actor)
    paid = pay.mark_invoice_paid(
        invoice=made["inv14"], method="bank_transfer", amount="5.00", actor=actor
    )
    pay.refund_payment(payment=paid, amount="1.00", actor=actor, reason="goodwill")
    # A card payment a gateway has been processing for two days, and one since now.
    waiting = Payment.objects.get(invoice=made["inv15"], status="waiting_for_payment")
    two_days_ago = timezone.now() - timedelta(days=2)
    with monkeypatch.context() as m:
        m.setattr(timezone, "now", lambda: two_days_ago)
        pay.start_card_payment(payment=waiting, card_number="4242424242424242", actor=actor)
    fresh = Payment.objects.get(invoice=made["inv13"], status="waiting_for_payment")
    pay.start_card_payment(payment=fresh, card_number="4242424242424242", actor=actor)
    # An invoice waiting for the ERP's approval.
    erp = ledger.create_account(
        name="Foxtrot Ltd", email="f@example.test", currency="GBP", actor=actor, erp_managed=True
    )
    draft = ledger.create_invoice(account=erp, actor=actor, lines=[LineSpec("ERP", "1", "33.00")])
    extra["erp_invoice"] = pay.issue_invoice(invoice=draft, actor=actor)
    # Bravo's wallet is empty (its 25.00 prepaid inv5): under a 10.00 threshold. Charlie's
    # holds 30.00 for an ongoing invoice and keeps 70.00, above its 50.00 threshold.
    bravo_wallet = made["bravo"].wallets.get()
    wallets.set_low_balance_alert(wallet=bravo_wallet, threshold="10.00", actor=actor)
    charlie_wallet = wallets.create_wallet(account=made["charlie"], name="Main", actor=actor)
    wallets.top_up(wallet=charlie_wallet, amount="100.00", actor=actor, grant=True)
    wallets.set_low_balance_alert(wallet=charlie_wallet, threshold="50.00", actor=actor)
    ongoing = ledger.create_invoice(
        account=made["charlie"], actor=actor, lines=[LineSpec("Usage", "30", "1.00")]
    )
    ongoing = ledger.open_invoice(invoice=ongoing, actor=actor)
    pay.apply_wallet(wallet=charlie_wallet, invoice=ongoing, actor=actor)
    return extra


def index(client):
    return client.get(reverse("admin:index"))
