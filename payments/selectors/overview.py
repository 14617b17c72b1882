"""The finance overview (issue 15 item 1): per currency, what is owed to us and how late
(the aging totals of ``payments.selectors.aging`` as of today, so the overview and the
aged receivables report give the same figures), the money received this month by
method, payments stuck at a gateway, invoices waiting for the ERP, wallets under their
low-balance threshold and the money held for ongoing invoices.

Each figure is defined by a filter of its own below (``received_this_month``,
``stuck_processing``, ...), which the admin lists use too: a figure and the list it
links to count the same rows. At most six queries, whatever the data; a section the
caller may not see (``sections``) costs none.

Rules (docs/RULES.md *Receivables*): money received = incoming payments ``completed``
this calendar month (site time zone), by the method recorded, gross (refunds, disputes
and direct-debit returns are outgoing payments and are not netted; paid-from-balance
moves no money and is not counted); stuck = ``processing`` for over a day since it
entered that status; pending ERP approval = payments in ``pending_billing``; a wallet
is low when it is active, has a threshold and its available balance is below it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DecimalField, Exists, F, OuterRef, QuerySet, Sum
from django.utils import timezone
from moneyed import Money

from ledger.money import DECIMAL_PLACES, MAX_DIGITS, round_money
from wallets.models import Hold, HoldStatus, Wallet, WalletStatus

from ..models import Direction, Payment, PaymentStatus, PaymentTransition
from .aging import AgingRow, aging

RECEIVABLES, PAYMENTS, WALLETS = "receivables", "payments", "wallets"
SECTIONS = frozenset({RECEIVABLES, PAYMENTS, WALLETS})
STUCK_AFTER = timedelta(days=1)
AMOUNT = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


def month_bounds(today: date) -> tuple[datetime, datetime]:
    """The first instant of ``today``'s month and of the next, in the site's zone."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    aware = timezone.make_aware
    return aware(datetime.combine(first, time.min)), aware(datetime.combine(following, time.min))


def received_this_month(queryset: QuerySet, today: date | None = None) -> QuerySet:
    """Incoming payments completed this calendar month (money that arrived)."""
    start, end = month_bounds(today or timezone.localdate())
    return queryset.filter(
        direction=Direction.INCOMING,
        status=PaymentStatus.COMPLETED,
        completed_at__gte=start,
        completed_at__lt=end,
    )


def stuck_processing(queryset: QuerySet, now: datetime | None = None) -> QuerySet:
    """Payments in ``processing`` that entered it more than a day ago."""
    since = (now or timezone.now()) - STUCK_AFTER
    recent = PaymentTransition.objects.filter(
        payment=OuterRef("pk"), target=PaymentStatus.PROCESSING, at__gt=since
    )
    return queryset.filter(status=PaymentStatus.PROCESSING).filter(~Exists(recent))


def pending_billing(queryset: QuerySet) -> QuerySet:
    return queryset.filter(status=PaymentStatus.PENDING_BILLING)


def below_threshold(queryset: QuerySet) -> QuerySet:
    """Active wallets whose available balance is below their low-balance threshold."""
    return (
        queryset.filter(status=WalletStatus.ACTIVE, low_balance_threshold__isnull=False)
        .alias(free=F("total") - F("consumed") - F("held"))
        .filter(free__lt=F("low_balance_threshold"))
    )


def holding(queryset: QuerySet) -> QuerySet:
    """Wallets holding money for ongoing invoices."""
    return queryset.filter(held__gt=0)


@dataclass(frozen=True)
class Figure:
    count: int
    amount: Money


@dataclass
class CurrencyOverview:
    currency: str
    receivables: AgingRow | None = None  # the aging totals as of today
    received: dict[str, Figure] = field(default_factory=dict)  # by method
    stuck: Figure | None = None
    pending_billing: Figure | None = None
    low_wallets: Figure | None = None  # amount: what those wallets have available
    held: Figure | None = None  # count: wallets holding

    @property
    def received_total(self) -> Figure:
        zero = Money(0, self.currency)
        return Figure(
            sum(f.count for f in self.received.values()),
            sum((f.amount for f in self.received.values()), zero),
        )


@dataclass
class Overview:
    today: date
    sections: frozenset
    currencies: list[CurrencyOverview]

    def of(self, currency: str) -> CurrencyOverview | None:
        return next((c for c in self.currencies if c.currency == currency), None)


def _figure(row: dict) -> Figure:
    return Figure(row["n"], round_money(row["s"] or 0, row["currency"]))


def _figures(queryset: QuerySet, amount: str, *keys: str) -> dict[tuple, Figure]:
    rows = queryset.order_by().values("currency", *keys).annotate(n=Count("pk"), s=Sum(amount))
    return {(row["currency"], *(row[k] for k in keys)): _figure(row) for row in rows}


def _payment_figures(today: date, now: datetime) -> dict[str, dict]:
    payments = Payment.objects.all()
    return {
        "received": _figures(received_this_month(payments, today), "amount", "method"),
        "stuck": _figures(stuck_processing(payments, now), "amount"),
        "pending_billing": _figures(pending_billing(payments), "amount"),
    }


def _wallet_figures() -> dict[str, dict]:
    # What the low wallets have available (not their totals).
    available = (
        below_threshold(Wallet.objects.all())
        .order_by()
        .values("currency")
        .annotate(n=Count("pk"), s=Sum(F("total") - F("consumed") - F("held"), output_field=AMOUNT))
    )
    low = {(r["currency"],): _figure(r) for r in available}
    held = (
        Hold.objects.filter(status=HoldStatus.ACTIVE)
        .order_by()
        .values("currency")
        .annotate(n=Count("wallet", distinct=True), s=Sum("amount"))
    )
    holds = {(r["currency"],): _figure(r) for r in held}
    return {"low_wallets": low, "held": holds}


def finance_overview(
    *, sections=SECTIONS, today: date | None = None, now: datetime | None = None
) -> Overview:
    """The overview's figures per currency, for the ``sections`` the caller may see."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    sections = frozenset(sections) & SECTIONS
    per: dict[str, CurrencyOverview] = {}

    def slot(currency: str) -> CurrencyOverview:
        return per.setdefault(currency, CurrencyOverview(currency))

    if RECEIVABLES in sections:
        for currency, row in aging(as_of=today).totals.items():
            slot(currency).receivables = row
    found = {}
    if PAYMENTS in sections:
        found.update(_payment_figures(today, now))
    if WALLETS in sections:
        found.update(_wallet_figures())
    for name, figures in found.items():
        for key, figure in figures.items():
            target = slot(key[0])
            if name == "received":
                target.received[key[1]] = figure
            else:
                setattr(target, name, figure)
    return Overview(today=today, sections=sections, currencies=[per[c] for c in sorted(per)])
