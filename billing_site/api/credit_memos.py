"""Credit memos over the API (read-only: wallet prepayments posted as CRMO are final)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema

from billing_site.api.base import ReadOnlyApiViewSet
from billing_site.api.wallet_serializers import CreditMemoSerializer
from wallets.models import CreditMemo


class CreditMemoFilter(filters.FilterSet):
    class Meta:
        model = CreditMemo
        fields = ("account", "invoice", "wallet", "reason")


@extend_schema(tags=["wallets"])
class CreditMemoViewSet(ReadOnlyApiViewSet):
    """Credit memos (wallet prepayments posted as CRMO). Read-only: they are final."""

    queryset = CreditMemo.objects.order_by("-id")
    serializer_class = CreditMemoSerializer
    filterset_class = CreditMemoFilter
