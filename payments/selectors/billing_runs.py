"""Reads of billing runs: the running run, one run's counts and amounts (its page, the
API, ``close_period``), and each run's counts for the lists (the admin's and the
API's) as correlated subqueries, so a page of runs costs one query and only the runs on
the page are counted (an aggregate over a join would count every item of every run for
the page's total too)."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from moneyed import Money

from ..models import BillingRun, BillingRunItem, ItemStatus, RunStatus

AMOUNTS = ("total", "captured", "credit_applied", "waiting")


def running_run() -> BillingRun | None:
    return BillingRun.objects.filter(status=RunStatus.RUNNING).first()


def _run_id(run: BillingRun | int) -> int:
    return run.pk if isinstance(run, BillingRun) else run


@dataclass(frozen=True)
class RunCounts:
    total: int
    pending: int
    issued: int
    failed: int
    skipped: int

    @property
    def done(self) -> int:
        return self.total - self.pending


def run_counts(run: BillingRun | int) -> RunCounts:
    """How far a run is: one aggregate query."""
    by = {s: Count("id", filter=Q(status=s)) for s in ItemStatus.values}
    row = BillingRunItem.objects.filter(run_id=_run_id(run)).aggregate(total=Count("id"), **by)
    return RunCounts(row["total"], row["pending"], row["issued"], row["failed"], row["skipped"])


def run_amounts(run: BillingRun | int) -> list[dict]:
    """The issued items' amounts per currency (one aggregate query): ``currency``,
    ``invoices``, ``direct_debits`` and the ``AMOUNTS`` as Money."""
    rows = (
        BillingRunItem.objects.filter(run_id=_run_id(run), status=ItemStatus.ISSUED)
        .values("currency")
        .annotate(
            invoices=Count("id"),
            direct_debits=Count("id", filter=Q(direct_debit=True)),
            **{name: Sum(name) for name in AMOUNTS},
        )
        .order_by("currency")
    )
    return [
        {**row, **{name: Money(row[name] or 0, row["currency"]) for name in AMOUNTS}}
        for row in rows
    ]


COUNTED = tuple(ItemStatus.values)  # pending, issued, failed, skipped


def _count(status: str | None):
    items = BillingRunItem.objects.filter(run=OuterRef("pk"))
    if status is not None:
        items = items.filter(status=status)
    counted = items.order_by().values("run").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(runs: QuerySet) -> QuerySet:
    """``runs`` annotated with ``n_total`` and ``n_<status>`` for each item status."""
    return runs.annotate(n_total=_count(None), **{f"n_{s}": _count(s) for s in COUNTED})
