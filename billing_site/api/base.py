"""The base of every API view: authentication, scopes, visibility, idempotent writes,
cursor pagination, and small helpers to call a service and render its result."""

from rest_framework import mixins, viewsets
from rest_framework.response import Response

from billing_site.api.auth import actor_for
from billing_site.api.idempotency import IdempotentWritesMixin
from billing_site.api.parsers import BoundedJSONParser, refuse_oversized
from billing_site.api.permissions import restrict


class ApiViewSet(IdempotentWritesMixin, viewsets.GenericViewSet):
    """``queryset`` is restricted to the caller's accounts through ``account_path``."""

    lookup_value_regex = r"[0-9]{1,18}"
    parser_classes = [BoundedJSONParser]
    account_path = "account"
    scopes: dict = {}

    def initial(self, request, *args, **kwargs):
        refuse_oversized(request._request)  # 413 before anything reads the body
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return restrict(self.request, super().get_queryset(), self.account_path)

    def filter_queryset(self, queryset):
        # Without query parameters the filters (django-filter's FilterSet and its form,
        # built per request) leave the queryset as it is: skip building them. This is
        # every write and every detail read.
        if not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)

    @property
    def actor(self):
        return actor_for(self.request)

    def input(self, serializer_class, **context):
        """Validate the request body with ``serializer_class``; return its data."""
        serializer = serializer_class(
            data=self.request.data, context={**self.get_serializer_context(), **context}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def output(self, instance, serializer_class=None, status=200, **kwargs):
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context=self.get_serializer_context(), **kwargs).data
        return Response(data, status=status)


class ReadOnlyApiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    pass
