"""Aged receivables (SPEC section 7, issue 15): what was owed, per account or account
group, in buckets by days past due, as of the end of any day.

What an invoice owed at the end of day D (in ``settings.TIME_ZONE``) is read from the
records that move it, never from its current figures, so any past day can be asked:

    owed(I, D) = Σ INVC debits of I posted before the cutoff   (a cancellation or a
                                                                refund is a negative one)
               − Σ CRMO credits of I posted before the cutoff  (wallet prepayments)
               − Σ allocations of payments to I made before the cutoff
                                                               (a refund or a dispute
                                                                is a negative one)

where the cutoff is midnight at the start of D + 1. ``PAYM``/``CRED`` entries are not
summed per invoice: the allocations are what paid it. For D = today this is
``Invoice.amount_due`` of every posted invoice and nothing for a cancelled one
(``tests/receivables/test_aging.py`` proves it over a rich history).

Days past due = D − due date; the buckets are *not yet due* (≤ 0, or no due date),
1–30, 31–60, 61–90 and over 90. Disputed invoices are owed and counted.

The whole computation is one SQL statement (``GROUP BY`` in the database, the same on
SQLite and PostgreSQL): per-invoice sums, then per account (or group) and currency.
Totals per currency add up the rows it returned. One query, however many accounts or
invoices.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from moneyed import Money

from ledger.money import round_money

BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
BUCKET_LABELS = {
    "not_due": "Not yet due",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "over_90": "Over 90 days",
}
# The query-string values of the buckets (the invoice list's ``overdue`` filter).
BUCKET_SLUGS = {
    "not_due": "not-due",
    "days_1_30": "1-30",
    "days_31_60": "31-60",
    "days_61_90": "61-90",
    "over_90": "over-90",
}
OVERDUE_BUCKETS = BUCKETS[1:]
BY_ACCOUNT, BY_GROUP = "account", "group"

# An amount below the stored precision (4 places) is nothing: SQLite sums its decimal
# columns as binary floats, PostgreSQL exactly; both agree on this test.
_NOTHING = "0.00005"


@dataclass(frozen=True)
class AgingRow:
    """One row of the report: an account (``by="account"``), an account group
    (``by="group"``; ``group_id`` None for the accounts in no group) or a currency's
    total (``account_id`` and ``group_id`` None, ``name`` "Total")."""

    currency: str
    not_due: Money
    days_1_30: Money
    days_31_60: Money
    days_61_90: Money
    over_90: Money
    total: Money
    invoices: int
    account_id: int | None = None
    name: str = ""
    group_id: int | None = None
    group_name: str = ""

    @property
    def overdue(self) -> Money:
        return sum((getattr(self, b) for b in OVERDUE_BUCKETS), Money(0, self.currency))

    def bucket(self, name: str) -> Money:
        return getattr(self, name)


@dataclass
class Aging:
    as_of: date
    by: str
    currency: str | None
    rows: list[AgingRow] = field(default_factory=list)
    totals: dict[str, AgingRow] = field(default_factory=dict)  # per currency, sorted


def cutoff_of(as_of: date) -> datetime:
    """The first instant after day ``as_of`` in the site's time zone."""
    return timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))


_SQL = """
WITH moves AS (
    SELECT e.invoice_id AS invoice_id,
           CASE WHEN e.kind = 'INVC' THEN e.debit ELSE -e.credit END AS amount
      FROM ledger_ledgerentry e
     WHERE e.invoice_id IS NOT NULL AND e.kind IN ('INVC', 'CRMO') AND e.posted_at < %(cutoff)s
    UNION ALL
    SELECT a.invoice_id, -a.amount
      FROM payments_paymentallocation a
     WHERE a.created_at < %(cutoff)s
),
owed AS (
    SELECT m.invoice_id AS invoice_id, SUM(m.amount) AS owed
      FROM moves m
     GROUP BY m.invoice_id
)
SELECT {keys}, i.currency,
       SUM(CASE WHEN i.due_date IS NULL OR i.due_date >= %(d0)s THEN o.owed ELSE 0 END),
       SUM(CASE WHEN i.due_date < %(d0)s AND i.due_date >= %(d30)s THEN o.owed ELSE 0 END),
       SUM(CASE WHEN i.due_date < %(d30)s AND i.due_date >= %(d60)s THEN o.owed ELSE 0 END),
       SUM(CASE WHEN i.due_date < %(d60)s AND i.due_date >= %(d90)s THEN o.owed ELSE 0 END),
       SUM(CASE WHEN i.due_date < %(d90)s THEN o.owed ELSE 0 END),
       SUM(o.owed),
       COUNT(*)
  FROM owed o
  JOIN ledger_invoice i ON i.id = o.invoice_id
  JOIN ledger_account a ON a.id = i.account_id
  LEFT JOIN ledger_accountgroup g ON g.id = a.group_id
 WHERE ABS(o.owed) >= {nothing} {where}
 GROUP BY {keys}, i.currency
 ORDER BY {order}, i.currency
"""

_KEYS = {
    BY_ACCOUNT: ("a.id, a.name, a.group_id, g.name", "a.name, a.id"),
    BY_GROUP: ("a.group_id, g.name", "g.name IS NULL, g.name, a.group_id"),
}


def _decimal(value) -> Decimal:
    if isinstance(value, float):  # SQLite's sums of decimal columns
        value = repr(value)
    return Decimal(value if value is not None else 0).quantize(Decimal("0.0001"))


def _money(value, currency: str) -> Money:
    return round_money(_decimal(value), currency)


def _params(as_of: date, accounts, currency) -> tuple[dict, str]:
    ops = connection.ops
    params = {"cutoff": ops.adapt_datetimefield_value(cutoff_of(as_of))}
    for days in (0, 30, 60, 90):
        params[f"d{days}"] = ops.adapt_datefield_value(as_of - timedelta(days=days))
    where = ""
    if currency:
        params["currency"] = currency
        where += " AND i.currency = %(currency)s"
    if accounts is not None:
        ids = [int(pk) for pk in accounts] or [0]
        where += f" AND i.account_id IN ({', '.join(str(pk) for pk in ids)})"
    return params, where


def _row(by: str, values: tuple) -> AgingRow:
    if by == BY_ACCOUNT:
        account_id, name, group_id, group_name, currency, *figures = values
    else:
        account_id, name = None, ""
        group_id, group_name, currency, *figures = values
        name = group_name or "No group"
    *amounts, count = figures
    money = dict(zip((*BUCKETS, "total"), (_money(v, currency) for v in amounts), strict=True))
    return AgingRow(
        currency=currency,
        invoices=int(count),
        account_id=account_id,
        name=name,
        group_id=group_id,
        group_name=group_name or "",
        **money,
    )


def _totals(rows: list[AgingRow]) -> dict[str, AgingRow]:
    totals: dict[str, AgingRow] = {}
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        zero = Money(0, currency)
        sums = {b: sum((r.bucket(b) for r in mine), zero) for b in (*BUCKETS, "total")}
        totals[currency] = AgingRow(
            currency=currency, invoices=sum(r.invoices for r in mine), name="Total", **sums
        )
    return totals


_OWED_SQL = _SQL.split("SELECT {keys}")[0] + "SELECT o.invoice_id, o.owed FROM owed o"


def invoice_owed(*, as_of: date | None = None) -> dict[int, Decimal]:
    """What every invoice with movements owed at the end of ``as_of`` (the per-invoice
    step of the report, for checking it against ``Invoice.amount_due``). One query."""
    params, _where = _params(as_of or timezone.localdate(), None, None)
    with connection.cursor() as cursor:
        cursor.execute(_OWED_SQL, params)
        return {invoice_id: _decimal(owed) for invoice_id, owed in cursor.fetchall()}


def aging(
    *,
    as_of: date | None = None,
    by: str = BY_ACCOUNT,
    currency: str | None = None,
    accounts=None,
) -> Aging:
    """The aged receivables at the end of ``as_of`` (today by default), one row per
    account (or per group) and currency with money owed, and the totals per currency.

    ``accounts``: only these account ids (an API key restricted to some accounts);
    ``currency``: only that currency. One query."""
    if by not in _KEYS:
        raise ValueError(f"by must be '{BY_ACCOUNT}' or '{BY_GROUP}', not {by!r}")
    as_of = as_of or timezone.localdate()
    params, where = _params(as_of, accounts, currency)
    keys, order = _KEYS[by]
    sql = _SQL.format(keys=keys, order=order, where=where, nothing=_NOTHING)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [_row(by, values) for values in cursor.fetchall()]
    return Aging(as_of=as_of, by=by, currency=currency, rows=rows, totals=_totals(rows))
