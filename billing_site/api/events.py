"""Business events over the API (read-only): the outbox an integration can poll or use
to fill a gap in the webhooks it received (per-account ``seq`` is gapless). A key
restricted to some accounts sees only their events, like every other resource."""

from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers

from billing_site.api.base import ReadOnlyApiViewSet
from billing_site.api.pagination import Cursor
from events.models import Event, EventType


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(read_only=True, help_text="Dedupe by it: delivery is at least once.")
    type = serializers.ChoiceField(choices=EventType.choices, read_only=True)
    seq = serializers.IntegerField(read_only=True, help_text="The account's event number, gapless.")
    payload = serializers.JSONField(
        read_only=True, help_text="Each object concerned, as the API showed it at that moment."
    )

    class Meta:
        model = Event
        fields = ("id", "type", "account", "seq", "created_at", "payload")
        read_only_fields = fields


class EventFilter(filters.FilterSet):
    type = filters.ChoiceFilter(choices=EventType.choices)

    class Meta:
        model = Event
        fields = ("account", "type")


class EventCursor(Cursor):
    """Newest first by ``created_at`` (keyset: each page is an index range, whatever the
    history's length); the position is a timestamp, checked as one."""

    ordering = ("-created_at", "-seq")

    def decode_cursor(self, request):
        try:
            cursor = super(Cursor, self).decode_cursor(request)
        except exceptions.NotFound:
            cursor = False
        if cursor is False or (cursor and cursor.position and not _is_time(cursor.position)):
            raise exceptions.ValidationError(
                {"cursor": "not a cursor given by this list; follow 'next' or 'previous'."}
            )
        return cursor


def _is_time(text: str) -> bool:
    try:
        return len(text) < 40 and parse_datetime(text) is not None
    except ValueError:
        return False


@extend_schema(tags=["events"])
class EventViewSet(ReadOnlyApiViewSet):
    """Business events (invoice.issued, payment.completed, ...): append-only, each with
    a unique id, the account's gapless ``seq`` and the objects it concerns as the API
    showed them (docs/EVENTS.md)."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventCursor
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"
