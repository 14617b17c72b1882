"""The finance overview on the admin's home page (issue 15 item 1): the figures of
``payments.selectors.overview`` per currency, each linked to the admin list that counts
the same rows (the list filters of ``payments.admin``: ``overdue`` on invoices,
``received`` / ``stuck`` on payments, ``below_threshold`` / ``holding`` on wallets).

A staff user sees the figures of what they may view: receivables with the invoice view
permission, payments with the payment one, wallets with the wallet one."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from moneyed import Money

from payments.models import PaymentMethod
from payments.selectors.aging import BUCKET_LABELS, BUCKET_SLUGS, BUCKETS
from payments.selectors.overview import (
    PAYMENTS,
    RECEIVABLES,
    WALLETS,
    CurrencyOverview,
    Figure,
    finance_overview,
)

PERMISSIONS = {
    RECEIVABLES: "ledger.view_invoice",
    PAYMENTS: "payments.view_payment",
    WALLETS: "wallets.view_wallet",
}


@dataclass(frozen=True)
class Card:
    """One figure: ``key`` names it (``overdue``, ``received-card``...), ``url`` is the
    list it counts."""

    key: str
    label: str
    amount: Money | None
    count: int | None
    url: str
    note: str = ""
    noun: str = ""  # what ``count`` counts: "invoice", "payment", "wallet"...


def sections_for(user) -> set[str]:
    return {name for name, perm in PERMISSIONS.items() if user.has_perm(perm)}


def _url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def _invoices(c: str, overdue: str) -> str:
    return _url("admin:ledger_invoice_changelist", overdue=overdue, currency=c)


def _payments(c: str, **params) -> str:
    return _url("admin:payments_payment_changelist", **params, account__currency__exact=c)


def _wallets(c: str, **params) -> str:
    return _url("admin:wallets_wallet_changelist", **params, currency=c)


def receivable_cards(c: CurrencyOverview) -> list[Card]:
    row, cur = c.receivables, c.currency
    if row is None:
        return []
    cards = [
        Card(
            "open",
            "Open receivables",
            row.total,
            row.invoices,
            _invoices(cur, "owed"),
            noun="invoice",
        ),
        Card("overdue", "Overdue", row.overdue, None, _invoices(cur, "yes")),
    ]
    for bucket in BUCKETS:
        label = BUCKET_LABELS[bucket] + ("" if bucket == "not_due" else " overdue")
        slug = BUCKET_SLUGS[bucket]
        cards.append(Card(slug, label, row.bucket(bucket), None, _invoices(cur, slug)))
    return cards


def _figure_card(key, label, figure: Figure | None, url, currency, note="", noun="payment") -> Card:
    figure = figure or Figure(0, Money(0, currency))
    return Card(key, label, figure.amount, figure.count, url, note, noun)


def payment_cards(c: CurrencyOverview) -> list[Card]:
    cur = c.currency
    received = c.received_total
    cards = [
        _figure_card(
            "received",
            "Received this month",
            received,
            _payments(cur, received="this-month"),
            cur,
            "incoming payments completed this month, before refunds",
        )
    ]
    for method in sorted(c.received):
        label = PaymentMethod(method).label if method in PaymentMethod.values else method
        url = _payments(cur, received="this-month", method__exact=method)
        figure = c.received[method]
        cards.append(_figure_card(f"received-{method}", f"· by {label}", figure, url, cur))
    stuck_url = _payments(cur, status__exact="processing", stuck=1)
    pending_url = _payments(cur, status__exact="pending_billing")
    pending = c.pending_billing
    cards += [
        _figure_card("stuck", "Processing for over a day", c.stuck, stuck_url, cur),
        _figure_card("pending-billing", "Pending ERP approval", pending, pending_url, cur),
    ]
    return cards


def wallet_cards(c: CurrencyOverview) -> list[Card]:
    cur = c.currency
    low_url = _wallets(cur, below_threshold=1)
    return [
        _figure_card(
            "low-wallets",
            "Wallets below their threshold",
            c.low_wallets,
            low_url,
            cur,
            "available in those wallets",
            noun="wallet",
        ),
        _figure_card(
            "held",
            "Held for ongoing invoices",
            c.held,
            _wallets(cur, holding=1),
            cur,
            "in active holds",
            noun="wallet",
        ),
    ]


def overview_context(request) -> dict:
    """``finance_overview``: the overview's currencies, each with its cards."""
    sections = sections_for(request.user)
    if not sections:
        return {"finance_overview": None}
    overview = finance_overview(sections=sections)
    currencies = []
    for c in overview.currencies:
        cards = []
        if RECEIVABLES in sections:
            cards += receivable_cards(c)
        if PAYMENTS in sections:
            cards += payment_cards(c)
        if WALLETS in sections:
            cards += wallet_cards(c)
        currencies.append({"currency": c.currency, "cards": cards})
    return {
        "finance_overview": {
            "today": overview.today,
            "currencies": currencies,
            "aging_url": reverse("admin:receivables_aging") if RECEIVABLES in sections else "",
        }
    }
