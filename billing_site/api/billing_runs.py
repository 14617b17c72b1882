"""The period-close billing run over the API (issue 15 item 5; docs/RULES.md *Billing
run*): ``POST /billing-runs/`` starts a run through a day (yesterday by default) or
joins the one running, and enqueues a worker (202: the work goes on after the answer);
``GET /billing-runs/`` and ``/billing-runs/{id}/`` (counts, amounts per currency),
``/billing-runs/{id}/items/?status=failed`` (each invoice and what became of it).

A run covers every account: only keys with no account restriction use these (scope
``write`` to start one, ``read`` to look); a restricted key or a member session is
refused. Thin: parse, call ``payments.services.billing_runs``, render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, permissions, serializers
from rest_framework.decorators import action

from billing_site.api.auth import api_key_of
from billing_site.api.base import ApiViewSet
from billing_site.api.fields import MoneyField
from billing_site.api.models import ApiScope
from billing_site.api.pagination import page_of, paginate
from billing_site.api.permissions import HasScope, is_restricted
from payments.models import BillingRun, BillingRunItem, ItemStatus
from payments.selectors.billing_runs import run_amounts, run_counts, with_counts
from payments.services import billing_runs as runs
from payments.tasks import enqueue_billing_run

COUNTED = ("pending", "issued", "failed", "skipped")


class UnrestrictedKeyOnly(permissions.BasePermission):
    message = (
        "A billing run covers every account: a key restricted to accounts or groups, or a "
        "member session, cannot start or read one."
    )

    def has_permission(self, request, view):
        return api_key_of(request) is not None and not is_restricted(request)


class BillingRunCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    issued = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()


class BillingRunAmountsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    invoices = serializers.IntegerField(help_text="Invoices issued in this currency.")
    total = MoneyField(help_text="Their totals.")
    captured = MoneyField(help_text="Wallet holds captured as credit memos.")
    credit_applied = MoneyField(help_text="Account credit applied at issue.")
    waiting = MoneyField(help_text="Left on the waiting payments.")
    direct_debits = serializers.IntegerField(help_text="Direct debits started.")


class BillingRunSerializer(serializers.ModelSerializer):
    started_by = serializers.CharField(source="actor_label", read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = BillingRun
        fields = ("id", "through", "status", "started_at", "finished_at", "started_by", "counts")
        read_only_fields = fields

    @extend_schema_field(BillingRunCountsSerializer)
    def get_counts(self, run) -> dict:
        if hasattr(run, "n_total"):  # annotated by the list's query
            by = {name: getattr(run, f"n_{name}") for name in COUNTED}
            return BillingRunCountsSerializer({"total": run.n_total, **by}).data
        return BillingRunCountsSerializer(run_counts(run)).data


class BillingRunDetailSerializer(BillingRunSerializer):
    amounts = serializers.SerializerMethodField()

    class Meta(BillingRunSerializer.Meta):
        fields = (*BillingRunSerializer.Meta.fields, "amounts")
        read_only_fields = fields

    @extend_schema_field(BillingRunAmountsSerializer(many=True))
    def get_amounts(self, run) -> list:
        return BillingRunAmountsSerializer(run_amounts(run), many=True).data


class BillingRunItemSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    total = MoneyField(help_text="The invoice's total when it was issued.")
    captured = MoneyField(help_text="Wallet holds captured as credit memos.")
    credit_applied = MoneyField(help_text="Account credit applied at issue.")
    waiting = MoneyField(help_text="Left on the waiting payment.")

    class Meta:
        model = BillingRunItem
        fields = (
            "id",
            "run",
            "invoice",
            "invoice_number",
            "account",
            "status",
            "reason",
            "total",
            "captured",
            "credit_applied",
            "waiting",
            "direct_debit",
            "processed_at",
        )
        read_only_fields = fields


class BillingRunStart(serializers.Serializer):
    through = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The last period day to close (default: yesterday); a day not passed "
        "yet is refused.",
    )


BillingRunItemPage = page_of(BillingRunItemSerializer, "BillingRunItemPage")
STATUS_PARAM = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=list(ItemStatus.values), description="Only these items."
)


@extend_schema(tags=["invoices"])
class BillingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Period-close billing runs, newest first: each issues the ongoing invoices whose
    billing period ended by its ``through`` day."""

    queryset = BillingRun.objects.order_by("-id")
    serializer_class = BillingRunSerializer
    filterset_fields = ("status",)
    permission_classes = [HasScope, UnrestrictedKeyOnly]
    write_scope = ApiScope.WRITE

    def get_queryset(self):
        if self.action != "list":
            return self.queryset.all()  # not per account: unrestricted keys only
        return with_counts(self.queryset.all())

    def get_serializer_class(self):
        return BillingRunSerializer if self.action == "list" else BillingRunDetailSerializer

    @extend_schema(request=BillingRunStart, responses={202: BillingRunDetailSerializer})
    def create(self, request):
        """Start a run through ``through`` (default yesterday) and enqueue its worker; if a
        run is running, it goes on instead (with another worker; its own day stays).
        Answers 202 with the run: follow it with ``GET /billing-runs/{id}/``. 422: a day
        not passed yet."""
        data = self.input(BillingRunStart)
        run = runs.start_run(through=data.get("through"), actor=self.actor)
        enqueue_billing_run(run.pk)  # after this request's transaction commits
        return self.output(run, BillingRunDetailSerializer, status=202)

    @extend_schema(
        operation_id="billing_runs_items_list",
        parameters=[STATUS_PARAM],
        responses=BillingRunItemPage,
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def items(self, request, pk=None):
        """The run's invoices and what became of each (``failed`` ones with the reason;
        the next run tries them again), the last queued first."""
        run = self.get_object()
        rows = BillingRunItem.objects.filter(run=run).select_related("invoice")
        status = request.query_params.get("status")
        if status is not None:
            if status not in ItemStatus.values:
                raise exceptions.ValidationError(
                    {"status": f"one of {', '.join(ItemStatus.values)} (got {status!r})."}
                )
            rows = rows.filter(status=status)
        return paginate(self, rows, BillingRunItemSerializer)
