"""Reads of billing runs for their lists (the admin's and the API's): each run's counts
of items per status as correlated subqueries, so a page of runs costs one query and
only the runs on the page are counted (an aggregate over a join would count every
item of every run for the page's total too)."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import BillingRunItem, ItemStatus

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
