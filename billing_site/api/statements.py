"""An account's statement (the payments tab) over the API: entries newest first, each
with its running balance, keyset-paged on ``(account, seq)`` — a page costs the same
at 100 entries or 10 million (``ledger.selectors.statement_page``)."""

from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_site.api.fields import MoneyField
from ledger.models import LedgerEntry
from ledger.selectors import MAX_PAGE_SIZE, PAGE_SIZE, statement_page


class EntrySerializer(serializers.ModelSerializer):
    debit = MoneyField()
    credit = MoneyField()
    balance_after = MoneyField()
    invoice = serializers.IntegerField(source="invoice_id", allow_null=True)
    invoice_number = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = LedgerEntry
        fields = (
            "seq",
            "posted_at",
            "kind",
            "reference",
            "description",
            "method",
            "debit",
            "credit",
            "balance_after",
            "invoice",
            "invoice_number",
            "actor",
        )

    def get_invoice_number(self, entry) -> str | None:
        return entry.invoice.number if entry.invoice_id else None


class StatementQuery(serializers.Serializer):
    from_ = serializers.DateField(required=False, help_text="First day (inclusive).")
    to = serializers.DateField(required=False, help_text="Last day (inclusive).")
    before = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
    after = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        if attrs.get("before") is not None and attrs.get("after") is not None:
            raise serializers.ValidationError({"after": "give 'before' or 'after', not both."})
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": "'to' is before 'from'."})
        return attrs


class StatementSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    currency = serializers.CharField()
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    opening_balance = MoneyField(help_text="Balance before the first entry of the period.")
    closing_balance = MoneyField(help_text="Balance after the last entry of the period.")
    entry_count = serializers.IntegerField(help_text="Entries in the period.")
    next = serializers.CharField(allow_null=True, help_text="URL of the next older page.")
    previous = serializers.CharField(allow_null=True, help_text="URL of the next newer page.")
    results = EntrySerializer(many=True, help_text="Entries, newest first.")


def _page_url(request, **cursor) -> str:
    params = {k: v for k, v in request.query_params.items() if k not in ("before", "after")}
    params.update(cursor)
    return request.build_absolute_uri(request.path) + "?" + urlencode(params)


class StatementMixin:
    """``GET /accounts/{id}/statement/`` on the account viewset."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive)."),
            OpenApiParameter("before", int, description="Page of entries older than this seq."),
            OpenApiParameter("after", int, description="Page of entries newer than this seq."),
            OpenApiParameter("limit", int, description=f"1-{MAX_PAGE_SIZE}, default {PAGE_SIZE}"),
        ],
        responses=StatementSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def statement(self, request, pk=None):
        """An account's ledger, newest first, with the running balance on every row."""
        account = self.get_object()
        query = StatementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        page = statement_page(
            account=account,
            date_from=q.get("from"),
            date_to=q.get("to"),
            before=q.get("before"),
            after=q.get("after"),
            limit=q.get("limit", PAGE_SIZE),
        )
        body = {
            "account": account.pk,
            "currency": account.currency,
            "date_from": page.date_from,
            "date_to": page.date_to,
            "opening_balance": page.opening_balance,
            "closing_balance": page.closing_balance,
            "entry_count": page.entry_count,
            "next": _page_url(request, before=page.older_cursor) if page.older_cursor else None,
            "previous": _page_url(request, after=page.newer_cursor) if page.newer_cursor else None,
            "results": page.rows,
        }
        return Response(StatementSerializer(body).data)
