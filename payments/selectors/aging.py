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
SQLite and PostgreSQL): what each invoice owed, then per account and currency (then per
group). For today — the overview's report and the report's default — what each invoice
owes is read from its own figures (``amount_due``, proved equal to the history today),
one table instead of three; a past day reads the history. Totals per currency add up
the rows it returned. One query, however many accounts or invoices.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone
from moneyed import Money

from ledger.models.invoices import OPEN
from ledger.money import quantum

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


COLUMNS = (*BUCKETS, "total")


@dataclass(frozen=True)
class AgingRow:
    """One row of the report: an account (``by="account"``), an account group
    (``by="group"``; ``group_id`` None for the accounts in no group) or a currency's
    total (``account_id`` and ``group_id`` None, ``name`` "Total").

    ``amounts`` are the five buckets and the total (``COLUMNS``) as Decimals at the
    currency's precision; ``not_due`` ... ``total`` give them as Money (made when read:
    a report of thousands of rows makes only the Money objects a page shows)."""

    currency: str
    amounts: tuple[Decimal, ...]
    invoices: int
    account_id: int | None = None
    name: str = ""
    group_id: int | None = None
    group_name: str = ""

    def figure(self, name: str) -> Decimal:
        return self.amounts[COLUMNS.index(name)]

    def bucket(self, name: str) -> Money:
        return Money(self.figure(name), self.currency)

    not_due = property(lambda self: self.bucket("not_due"))
    days_1_30 = property(lambda self: self.bucket("days_1_30"))
    days_31_60 = property(lambda self: self.bucket("days_31_60"))
    days_61_90 = property(lambda self: self.bucket("days_61_90"))
    over_90 = property(lambda self: self.bucket("over_90"))
    total = property(lambda self: self.bucket("total"))

    @property
    def overdue(self) -> Money:
        return Money(sum(self.amounts[1:5], Decimal(0)), self.currency)


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


# What each invoice owed at the cutoff, from the records that moved it.
_OWED_FROM_HISTORY = """
moves AS (
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
    SELECT i.id AS invoice_id, i.account_id, i.currency, i.due_date, m.owed
      FROM (SELECT invoice_id, SUM(amount) AS owed FROM moves GROUP BY invoice_id) AS m
      JOIN ledger_invoice i ON i.id = m.invoice_id
)"""
# The same today, read from the invoices' own figures: what the history gives today is
# every posted invoice's ``amount_due`` (tests/receivables/test_aging.py proves it), and
# only open invoices (due, partially paid, disputed) have any — an invoice is paid or
# refunded when nothing is due. So today's report (the overview's, the default one)
# reads the open invoices alone, the very rows the invoice list's aging filters show.
_OWED_TODAY = f"""
owed AS (
    SELECT i.id AS invoice_id, i.account_id, i.currency, i.due_date,
           i.total - i.amount_refunded - i.amount_paid - i.amount_credited AS owed
      FROM ledger_invoice i
     WHERE i.status IN ({", ".join(f"'{s}'" for s in OPEN)})
)"""
_SQL = """
WITH {owed},
per_account AS (
    SELECT o.account_id, o.currency,
       SUM(CASE WHEN o.due_date IS NULL OR o.due_date >= %(d0)s THEN o.owed ELSE 0 END) AS b0,
       SUM(CASE WHEN o.due_date < %(d0)s AND o.due_date >= %(d30)s THEN o.owed ELSE 0 END) AS b1,
       SUM(CASE WHEN o.due_date < %(d30)s AND o.due_date >= %(d60)s THEN o.owed ELSE 0 END) AS b2,
       SUM(CASE WHEN o.due_date < %(d60)s AND o.due_date >= %(d90)s THEN o.owed ELSE 0 END) AS b3,
       SUM(CASE WHEN o.due_date < %(d90)s THEN o.owed ELSE 0 END) AS b4,
       SUM(o.owed) AS total, COUNT(*) AS n
      FROM owed o
     WHERE ABS(o.owed) >= {nothing} {where}
     GROUP BY o.account_id, o.currency
)
SELECT {select}
  FROM per_account p
  JOIN ledger_account a ON a.id = p.account_id
  LEFT JOIN ledger_accountgroup g ON g.id = a.group_id
 {group}
 ORDER BY {order}, p.currency
"""

_SHAPES = {
    BY_ACCOUNT: {
        "select": "a.id, a.name, a.group_id, g.name, p.currency, "
        "p.b0, p.b1, p.b2, p.b3, p.b4, p.total, p.n",
        "group": "",
        "order": "a.name, a.id",
    },
    BY_GROUP: {
        "select": "a.group_id, g.name, p.currency, SUM(p.b0), SUM(p.b1), SUM(p.b2), "
        "SUM(p.b3), SUM(p.b4), SUM(p.total), SUM(p.n)",
        "group": "GROUP BY a.group_id, g.name, p.currency",
        "order": "g.name IS NULL, g.name, a.group_id",
    },
}


def _decimal(value) -> Decimal:
    if isinstance(value, float):  # SQLite's sums of decimal columns
        value = repr(value)
    return Decimal(value if value is not None else 0).quantize(Decimal("0.0001"))


@functools.cache
def _quantum(currency: str) -> Decimal:
    return quantum(currency)


def _amount(value, currency: str) -> Decimal:
    return _decimal(value).quantize(_quantum(currency), rounding=ROUND_HALF_UP)


def _params(as_of: date, accounts, currency) -> tuple[dict, str]:
    ops = connection.ops
    params = {"cutoff": ops.adapt_datetimefield_value(cutoff_of(as_of))}
    for days in (0, 30, 60, 90):
        params[f"d{days}"] = ops.adapt_datefield_value(as_of - timedelta(days=days))
    where = ""
    if currency:
        params["currency"] = currency
        where += " AND o.currency = %(currency)s"
    if accounts is not None:
        ids = [int(pk) for pk in accounts] or [0]
        where += f" AND o.account_id IN ({', '.join(str(pk) for pk in ids)})"
    return params, where


def _row(by: str, values: tuple) -> AgingRow:
    if by == BY_ACCOUNT:
        account_id, name, group_id, group_name, currency, *figures = values
    else:
        account_id = None
        group_id, group_name, currency, *figures = values
        name = group_name or "No group"
    *amounts, count = figures
    return AgingRow(
        currency=currency,
        amounts=tuple(_amount(v, currency) for v in amounts),
        invoices=int(count),
        account_id=account_id,
        name=name,
        group_id=group_id,
        group_name=group_name or "",
    )


def _totals(rows: list[AgingRow]) -> dict[str, AgingRow]:
    """The total row of each currency: column sums of its rows (Decimals)."""
    sums: dict[str, list] = {}
    for row in rows:
        acc = sums.setdefault(row.currency, [Decimal(0)] * len(COLUMNS) + [0])
        for i, amount in enumerate(row.amounts):
            acc[i] += amount
        acc[-1] += row.invoices
    return {
        currency: AgingRow(
            currency=currency, amounts=tuple(acc[:-1]), invoices=acc[-1], name="Total"
        )
        for currency, acc in sorted(sums.items())
    }


def _owed_cte(as_of: date, history: bool | None) -> str:
    if history is None:  # the history unless it is today's (or a later day's) report
        history = as_of < timezone.localdate()
    return _OWED_FROM_HISTORY if history else _OWED_TODAY


def invoice_owed(*, as_of: date | None = None, history: bool = True) -> dict[int, Decimal]:
    """What every invoice with movements owed at the end of ``as_of`` (the per-invoice
    step of the report, for checking it against ``Invoice.amount_due``). One query."""
    as_of = as_of or timezone.localdate()
    params, _where = _params(as_of, None, None)
    sql = f"WITH {_owed_cte(as_of, history)} SELECT o.invoice_id, o.owed FROM owed o"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {invoice_id: _decimal(owed) for invoice_id, owed in cursor.fetchall()}


def aging(
    *,
    as_of: date | None = None,
    by: str = BY_ACCOUNT,
    currency: str | None = None,
    accounts=None,
    history: bool | None = None,
) -> Aging:
    """The aged receivables at the end of ``as_of`` (today by default), one row per
    account (or per group) and currency with money owed, and the totals per currency.

    ``accounts``: only these account ids (an API key restricted to some accounts);
    ``currency``: only that currency; ``history``: read the entries and allocations even
    for today (by default only for a past day). One query."""
    if by not in _SHAPES:
        raise ValueError(f"by must be '{BY_ACCOUNT}' or '{BY_GROUP}', not {by!r}")
    as_of = as_of or timezone.localdate()
    params, where = _params(as_of, accounts, currency)
    owed = _owed_cte(as_of, history)
    sql = _SQL.format(owed=owed, where=where, nothing=_NOTHING, **_SHAPES[by])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [_row(by, values) for values in cursor.fetchall()]
    return Aging(as_of=as_of, by=by, currency=currency, rows=rows, totals=_totals(rows))
