"""The receivables over the API (scope ``read``), the same figures as the admin:

- ``GET /api/v1/receivables/aging/?as_of=YYYY-MM-DD&by=account|group&currency=GBP`` —
  the aged receivables (``payments.selectors.aging``); a key restricted to some accounts
  sees those accounts only, and the totals of those.
- ``GET /api/v1/receivables/overview/`` — the finance overview per currency
  (``payments.selectors.overview``); for unrestricted keys (it spans every account).

Amounts are ``{"amount": "75.00", "currency": "GBP"}`` like everywhere in the API. A
bad parameter is a 400 naming it (``{"error": "invalid", "field": "as_of", ...}``).
"""

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.api.errors import error_body
from billing_site.api.fields import MoneyField
from billing_site.api.permissions import visible_accounts
from payments.selectors.aging import BUCKETS, BY_ACCOUNT, BY_GROUP, aging
from payments.selectors.overview import finance_overview

DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Figure(serializers.Serializer):
    count = serializers.IntegerField()
    amount = MoneyField()


class AgingRowSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id", allow_null=True)
    name = serializers.CharField()
    group = serializers.IntegerField(source="group_id", allow_null=True)
    group_name = serializers.CharField()
    currency = serializers.CharField()
    not_due = MoneyField()
    days_1_30 = MoneyField()
    days_31_60 = MoneyField()
    days_61_90 = MoneyField()
    over_90 = MoneyField()
    overdue = MoneyField()
    total = MoneyField()
    invoices = serializers.IntegerField()


class AgingSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    by = serializers.CharField()
    currency = serializers.CharField(allow_null=True)
    results = AgingRowSerializer(many=True, source="rows")
    totals = serializers.SerializerMethodField()

    def get_totals(self, report) -> list[dict]:
        return AgingRowSerializer(list(report.totals.values()), many=True).data


def _refuse(field: str, detail: str) -> Response:
    return Response(error_body("invalid", f"{field}: {detail}", field), status=400)


def _parse(params) -> tuple[dict | None, Response | None]:
    unknown = sorted(set(params) - {"as_of", "by", "currency"})
    if unknown:
        return None, _refuse(unknown[0], "not a parameter of this report.")
    parsed = {"by": params.get("by") or BY_ACCOUNT, "currency": params.get("currency") or None}
    raw = params.get("as_of")
    if raw:
        try:
            if not DATE.fullmatch(raw):
                raise ValueError(raw)
            parsed["as_of"] = date.fromisoformat(raw)
        except ValueError:
            return None, _refuse("as_of", f"{raw!r} is not a date (YYYY-MM-DD).")
    if parsed["by"] not in (BY_ACCOUNT, BY_GROUP):
        return None, _refuse("by", f"must be '{BY_ACCOUNT}' or '{BY_GROUP}'.")
    if parsed["currency"] and parsed["currency"] not in settings.CURRENCIES:
        allowed = ", ".join(settings.CURRENCIES)
        return None, _refuse("currency", f"{parsed['currency']!r} is not one of {allowed}.")
    return parsed, None


class AgingView(APIView):
    @extend_schema(
        operation_id="receivables_aging",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="End of this day; today."),
            OpenApiParameter("by", str, enum=[BY_ACCOUNT, BY_GROUP]),
            OpenApiParameter("currency", str, enum=list(settings.CURRENCIES)),
        ],
        responses=AgingSerializer,
    )
    def get(self, request):
        """Aged receivables as of a day, per account or group, with totals per currency."""
        parsed, refused = _parse(request.query_params)
        if refused is not None:
            return refused
        visible = visible_accounts(request)
        accounts = None if visible is None else list(visible.values_list("pk", flat=True))
        return Response(AgingSerializer(aging(**parsed, accounts=accounts)).data)


def _figure(figure) -> dict | None:
    return None if figure is None else _Figure(figure).data


def _currency(c) -> dict:
    row = c.receivables
    return {
        "currency": c.currency,
        "receivables": None if row is None else AgingRowSerializer(row).data,
        "received_this_month": {
            **_Figure(c.received_total).data,
            "by_method": [
                {"method": method, **_Figure(figure).data}
                for method, figure in sorted(c.received.items())
            ],
        },
        "stuck_processing": _figure(c.stuck),
        "pending_billing": _figure(c.pending_billing),
        "wallets_below_threshold": _figure(c.low_wallets),
        "held_for_ongoing_invoices": _figure(c.held),
    }


class OverviewView(APIView):
    @extend_schema(operation_id="receivables_overview", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """The finance overview per currency (every account: unrestricted keys only)."""
        if visible_accounts(request) is not None:
            raise PermissionDenied(
                "The overview spans every account: it needs a key not restricted to accounts."
            )
        overview = finance_overview()
        return Response(
            {
                "as_of": overview.today.isoformat(),
                "buckets": list(BUCKETS),
                "currencies": [_currency(c) for c in overview.currencies],
            }
        )
